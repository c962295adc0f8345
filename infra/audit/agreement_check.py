"""One agreement's integrity, as GraphQL's `verifyIntegrity` and the web app's badge show
it: its hash chain, every checkpointed event proven part of the latest signed checkpoint (a
Merkle inclusion proof against its root), and every event after it carrying the
service's tag. Only events so proven count as verified; the rest are "not yet
verified" (awaiting the next checkpoint) or a break.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, select

from domain.event_tags import tag_valid
from domain.integrity import (
    Break,
    Verifier,
    checkpoint_message,
    proof_subtrees,
    root_with,
    signature_valid,
)
from infra.audit import merkle_index
from infra.audit.store import Store, checkpoints, record_hash


class Status(Enum):
    VERIFIED = "VERIFIED"  # every event proven part of a signed checkpoint
    NOT_YET_VERIFIED = "NOT_YET_VERIFIED"  # nothing wrong; some events await a checkpoint
    BROKEN = "BROKEN"  # history was altered (or cannot be proven)


@dataclass(frozen=True)
class AgreementIntegrity:
    """What the check found about one agreement."""

    events: int  # events in its stream as stored
    verified: int  # proven part of the latest signed checkpoint
    pending: int  # after the latest checkpoint (carrying the service's tag, if checkable)
    first_break: Break | None
    checkpoint: dict[str, Any] | None  # the latest checkpoint's row
    signature_ok: bool  # that checkpoint is signed by a trusted key

    @property
    def status(self) -> Status:
        """Broken, verified, or not yet verified (never verified while any event is not)."""
        if self.first_break is not None:
            return Status.BROKEN
        if self.pending or self.verified < self.events:
            return Status.NOT_YET_VERIFIED
        return Status.VERIFIED


def check_agreement(
    store: Store,
    stream: UUID,
    trusted: frozenset[str],
    events_key: bytes | None,
    reader: Engine | None = None,
) -> AgreementIntegrity:
    """Check one agreement's events against the latest signed checkpoint (blocking);
    the index is read on `reader` when given (on SQLite the writer engine would take
    the write lock for the whole check)."""
    sid = str(stream)
    stored = list(store.recorder.select_events(stream))
    # A stream read has no log positions; its versions order it the same way.
    records = [store.record_of(s, s.originator_version) for s in stored]
    chain = Verifier(None, hash_of=record_hash)
    hashes: dict[int, str] = {}
    for record in records:
        chain.add(record)  # a stream read has no positions: versions order it the same way
        hashes[record.version] = chain.heads[sid][1]  # the event's hash, taken once
    found: list[Break] = [] if chain.first_break is None else [chain.first_break]
    with (reader or store.engine).connect() as conn:
        found_row = (
            conn.execute(select(checkpoints).order_by(checkpoints.c.position.desc()).limit(1))
            .mappings()
            .first()
        )
    latest = None if found_row is None else dict(found_row)
    signed = latest is not None and _signed(latest, trusted)
    if latest is not None and not signed:
        found.append(
            Break(
                "BAD_SIGNATURE",
                int(latest["position"]),
                None,
                None,
                "the latest checkpoint is not signed by a key this service trusts, so "
                "nothing can be proven against it",
            )
        )
    size = int(latest["size"]) if latest is not None and signed else 0
    with (reader or store.engine).connect() as conn:
        complete = size == 0 or merkle_index.indexed_size(conn) >= size
        checkpointed = merkle_index.stream_leaves(conn, sid, size) if complete else {}
        root = str(latest["root"]) if latest is not None else ""
        proven = _prove(conn, sid, (size, root), checkpointed, hashes, found) if checkpointed else 0
    if not complete:  # the index is still being built: nothing proven yet, nothing judged
        return AgreementIntegrity(len(records), 0, 0, _first(found), latest, signed)
    present = {r.version for r in records}
    for version in sorted(set(checkpointed) - present):
        found.append(
            Break(
                "EVENT_MISSING",
                None,
                sid,
                version,
                f"version {version} was covered by a signed checkpoint and is no longer in "
                "the store: it was deleted",
            )
        )
    newest_checkpointed = max(checkpointed, default=0)
    pending = 0
    for record in records:
        if record.version in checkpointed:
            continue
        if record.version < newest_checkpointed:
            found.append(
                Break(
                    "NOT_IN_CHECKPOINT",
                    None,
                    sid,
                    record.version,
                    "the event sits before checkpointed events but is not in the signed "
                    "checkpoint: it was inserted or replaced",
                )
            )
        elif events_key is not None and not tag_valid(
            events_key, hashes[record.version], record.tag
        ):
            found.append(
                Break(
                    "NOT_WRITTEN_BY_SERVICE",
                    None,
                    sid,
                    record.version,
                    "the event does not carry the service's tag: it was written or "
                    "edited around the service",
                )
            )
        else:
            pending += 1
    return AgreementIntegrity(len(records), proven, pending, _first(found), latest, signed)


def _prove(
    conn: Connection,
    sid: str,
    signed: tuple[int, str],
    checkpointed: dict[int, int],
    hashes: dict[int, str],
    found: list[Break],
) -> int:
    """Recompute the signed root with this stream's events as stored now at their
    leaves; how many were proven (all of the stream's checkpointed events, or none)."""
    at = {leaf: hashes[v] for v, leaf in checkpointed.items() if v in hashes}
    if not at:
        return 0
    size, signed_root = signed
    subtrees = merkle_index.subtrees(conn, proof_subtrees(size, sorted(at)))
    try:
        root: str | None = root_with(size, at, subtrees)
    except KeyError:
        root = None  # the index lacks a subtree: nothing can be proven
    if root == signed_root:
        return len(at)
    indexed = merkle_index.leaf_hashes(conn, at)
    changed = sorted(
        v for v, leaf in checkpointed.items() if v in hashes and indexed.get(leaf) != hashes[v]
    )
    found.append(
        Break(
            "NOT_IN_CHECKPOINT",
            None,
            sid,
            changed[0] if changed else None,
            (
                "the event is not the one the signed checkpoint covers at this version: it "
                "was edited after checkpointing"
            )
            if changed
            else "the agreement's events do not prove part of the signed checkpoint",
        )
    )
    return 0


def _signed(row: dict[str, Any], trusted: frozenset[str]) -> bool:
    key = str(row["public_key"])
    message = checkpoint_message(
        int(row["position"]), int(row["size"]), str(row["root"]), str(row["recorded_at"])
    )
    return key in trusted and signature_valid(key, message, str(row["signature"]))


def _first(found: list[Break]) -> Break | None:
    """The earliest break by version (a checkpoint's own problem first)."""
    if not found:
        return None
    return min(found, key=lambda b: (b.version is not None, b.version or 0))
