"""How an agreement's records are held in its snapshots: packed (domain.packing).

Loaded, records by id are read one by one as used, and the append-only histories all
at once when first read. The reviews, artifacts and changes older than the latest
100-199 are not in the snapshot but in chunks stored once (domain.snapshots), read only
when those records are.
"""

from __future__ import annotations

from typing import Any

from domain.agreement.state import counted_in_effect
from domain.packing import (
    ChunkCount,
    OpenedRows,
    RecordLog,
    RecordTable,
    pack_by_id,
    table_of,
)
from domain.records import Adjustment, Artifact, Change, Reallocation, Review
from domain.values import AgreementStatus

PACKED_BY_ID: dict[str, type[Any]] = {
    "adjustments": Adjustment,
    "reallocations": Reallocation,
    "changes": Change,
}
PACKED_LOGS: dict[str, type[Any]] = {"reviews": Review, "artifacts": Artifact}
# Records by id also kept in chunks (domain.snapshots): the changes, the one kind not
# capped per agreement. A change is stored as first recorded; who reverted it is worked
# out from the change that reverts it (domain.packing.RecordTable).
CHUNKED_BY_ID: dict[str, tuple[type[Any], tuple[str, str]]] = {
    "changes": (Change, ("reverted_by", "reverts")),
}
CHUNKED = {**PACKED_LOGS, **{name: cls for name, (cls, _) in CHUNKED_BY_ID.items()}}
PACKED = frozenset(PACKED_BY_ID) | frozenset(PACKED_LOGS)
CHUNKS = "chunks"  # the snapshot's field counting each log's stored chunks

SNAPSHOT_EVERY = 100


def snapshot_step(version: int) -> int:
    """Events between two snapshots of an agreement around `version`: 100, however long
    its history.

    The step used to double past 8,000 events, when a snapshot held the whole state and
    so grew with the history (5 MB at 30,000 events): at a fixed step the share of that
    each event paid grew, and an agreement's snapshots with the square of its length.
    A snapshot now holds a bounded tail of each kind of record (the older ones are in
    chunks stored once and shared by every later snapshot: domain.snapshots), so each
    costs the same to take and to store whatever the history: a fixed step bounds both
    the share each event pays and what time travel replays after the nearest snapshot
    (at most 99 events), and an agreement's snapshots grow linearly with its history."""
    return SNAPSHOT_EVERY


def takes_snapshot_at(version: int) -> bool:
    """Whether the agreement is snapshotted when an event brings it to `version`."""
    return version % snapshot_step(version) == 0


def pack_state(state: dict[str, Any]) -> None:
    """Pack a snapshot's collections in place, as it is taken."""
    chunks: dict[str, ChunkCount] = {}
    for name, record in PACKED_BY_ID.items():
        if name in CHUNKED_BY_ID:
            table = table_of(state[name], record, CHUNKED_BY_ID[name][1])
            count, unwritten, state[name] = table.pack_chunked()
            chunks[name] = ChunkCount.of(count, unwritten)
        else:
            state[name] = pack_by_id(state[name], record)
    # The append-only logs: full chunks are stored once apart (domain.snapshots) and
    # counted here, so a snapshot holds at most CHUNK_ROWS - 1 records of each log.
    for name in PACKED_LOGS:
        count, unwritten, state[name] = state[name].pack_chunked()
        chunks[name] = ChunkCount.of(count, unwritten)
    state[CHUNKS] = chunks


def unpack_state(state: dict[str, Any]) -> None:
    """Restore what JSON flattened in an agreement built from a snapshot, in place."""
    # JSON keeps enums as plain strings; the records' own enums are restored by their
    # transcodings, the aggregate's status here.
    state["status"] = AgreementStatus(state["status"])
    # Snapshots taken before the chains were followed through the changes
    # (domain.agreement.state.chain_of) hold them apart: they are the same chains.
    state.pop("chains", None)
    state.setdefault("sketch", None)  # snapshots taken before sketches existed
    chunks = state.pop(CHUNKS, {})  # none in snapshots taken before chunks
    # Snapshots taken before packing hold the records themselves.
    for name, record in PACKED_BY_ID.items():
        if isinstance(state[name], str | OpenedRows):
            count = chunks.get(name, 0)
            state[name] = RecordTable(
                record,
                state[name],
                chunked=int(count),
                reader=(getattr(count, "reader", None) or _unreadable) if count else None,
                derived=CHUNKED_BY_ID[name][1] if name in CHUNKED_BY_ID else None,
            )
    for name, record in PACKED_LOGS.items():
        value = state[name]
        count = chunks.get(name, 0)
        if isinstance(value, str | OpenedRows):
            reader = (getattr(count, "reader", None) or _unreadable) if count else None
            state[name] = RecordLog(record, packed=value, chunked=int(count), reader=reader)
        else:
            state[name] = RecordLog(record, value)
    if "active_hours" not in state:
        # Snapshots taken before the adjustments in effect were counted as they change:
        # counted once, here (the adjustments they hold are read for it).
        counted = counted_in_effect(state["adjustments"].values())
        state["active_adjustments"], state["active_hours"] = counted


def _unreadable() -> list[str]:
    # A snapshot decoded without its store (its chunks' reader): never read as if the
    # chunks were empty.
    raise RuntimeError("A snapshot's stored chunks are read through the snapshot store.")
