"""The checkpointed Merkle tree, kept so that one agreement's events can be proven part of a
signed checkpoint without rehashing the log: each checkpointed event's leaf (its index, log
position, stream, version and hash) and the complete subtrees of 2**8 leaves and more.
Smaller subtrees are recomputed from the leaves (at most 255 hashes each).

Nothing here is trusted: a proof is checked against the signed root, so an edited row
can only make a proof fail (a false alarm), never make an altered event pass.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    MetaData,
    SmallInteger,
    String,
    Table,
    delete,
    func,
    select,
    tuple_,
)

from domain.integrity import MerkleFrontier, Record, subtree_hash

log = logging.getLogger(__name__)
STORED_LEVEL = 8  # subtrees of 256 leaves and more are stored; smaller ones recomputed
CHUNK = 5000  # ids per IN (...) list

metadata = MetaData()
leaves = Table(
    "crafting_merkle_leaves",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
    Column("stream", String(36), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Index("crafting_merkle_leaves_stream", "stream", "version"),
)
nodes = Table(
    "crafting_merkle_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
)


@dataclass
class Growth:
    """What checkpointing adds to the tree: the new leaves and the subtrees they complete."""

    leaf_rows: list[dict[str, object]] = field(default_factory=list)
    node_rows: list[dict[str, object]] = field(default_factory=list)

    def add(self, tree: MerkleFrontier, record: Record, digest: str) -> None:
        """Append the event to `tree`, noting its leaf and the stored subtrees formed."""
        formed: list[tuple[int, int, str]] = []
        self.leaf_rows.append(
            {
                "idx": tree.size,
                "position": record.position,
                "stream": record.stream,
                "version": record.version,
                "hash": digest,
            }
        )
        tree.append(digest, formed)
        self.node_rows.extend(
            {"level": level, "idx": index, "hash": node}
            for level, index, node in formed
            if level >= STORED_LEVEL
        )

    def write(self, conn: Connection) -> None:
        """Insert the rows (in the transaction that records the checkpoint)."""
        for rows, table in ((self.leaf_rows, leaves), (self.node_rows, nodes)):
            for start in range(0, len(rows), CHUNK):
                conn.execute(table.insert(), rows[start : start + CHUNK])


def indexed_size(conn: Connection) -> int:
    """How many leaves the index holds (0 when empty)."""
    return int(conn.execute(select(func.coalesce(func.max(leaves.c.idx), -1))).scalar_one()) + 1


def clear(conn: Connection) -> None:
    """Forget the index (to rebuild it from the log)."""
    conn.execute(delete(leaves))
    conn.execute(delete(nodes))


def stream_leaves(conn: Connection, stream: str, size: int) -> dict[int, int]:
    """The checkpointed versions of one stream inside the first `size` leaves: version -> leaf."""
    rows = conn.execute(
        select(leaves.c.version, leaves.c.idx).where(leaves.c.stream == stream, leaves.c.idx < size)
    )
    return {int(version): int(idx) for version, idx in rows}


def leaf_hashes(conn: Connection, indices: Iterable[int]) -> dict[int, str]:
    """The stored event hashes at these leaves."""
    wanted, found = sorted(set(indices)), {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = conn.execute(select(leaves.c.idx, leaves.c.hash).where(leaves.c.idx.in_(chunk)))
        found.update({int(i): str(h) for i, h in rows})
    return found


def subtrees(conn: Connection, ranges: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The hashes of complete subtrees [lo, hi): stored ones read, smaller ones recomputed
    from their leaves. A range the index cannot give is left out (the proof then fails)."""
    stored = [(lo, hi) for lo, hi in ranges if hi - lo >= 1 << STORED_LEVEL]
    small = [(lo, hi) for lo, hi in ranges if hi - lo < 1 << STORED_LEVEL]
    out: dict[tuple[int, int], bytes] = {}
    keys = {((hi - lo).bit_length() - 1, lo // (hi - lo)): (lo, hi) for lo, hi in stored}
    wanted = list(keys)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = conn.execute(
            select(nodes.c.level, nodes.c.idx, nodes.c.hash).where(
                tuple_(nodes.c.level, nodes.c.idx).in_(chunk)
            )
        )
        for level, index, digest in rows:
            out[keys[(int(level), int(index))]] = bytes.fromhex(str(digest))
    hashes = leaf_hashes(conn, (i for lo, hi in small for i in range(lo, hi)))
    for lo, hi in small:
        if all(i in hashes for i in range(lo, hi)):
            out[(lo, hi)] = subtree_hash([hashes[i] for i in range(lo, hi)])
    return out
