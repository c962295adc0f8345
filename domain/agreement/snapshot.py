"""How an agreement's records are held in its snapshots: packed (domain.packing).

Loaded, records by id are read one by one as used, and the append-only histories all
at once when first read. The reviews and artifacts older than the latest 0-99, the
changes and adjustments older than the latest 100-199, are not in the snapshot but in
chunks stored once (domain.snapshots), read only when those records are: a snapshot's
size is bounded whatever the agreement's history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from domain.agreement.state import counted_in_effect
from domain.packing import (
    ChunkCount,
    Derived,
    OpenedRows,
    RecordLog,
    RecordTable,
    named_by,
    pack_by_id,
    table_of,
)
from domain.records import Adjustment, Artifact, Change, Reallocation, Review
from domain.values import AgreementStatus, ChangeStatus

PACKED_BY_ID: dict[str, type[Any]] = {
    "adjustments": Adjustment,
    "reallocations": Reallocation,
    "changes": Change,
}
PACKED_LOGS: dict[str, type[Any]] = {"reviews": Review, "artifacts": Artifact}
# Records by id also kept in chunks (domain.snapshots): the changes, the one kind not
# capped per agreement, and the adjustments (capped at 100, so in chunks only past the
# cap, as the benchmarks grow them; else each snapshot would hold every one ever made).
# Each is stored as first recorded (domain.packing.RecordTable); the field later events
# change is worked out again as a chunk is read: who reverted a change, from the change
# that reverts it; an adjustment's status, from its change's chain (`_statuses`).
CHUNKED_BY_ID: dict[str, type[Any]] = {"changes": Change, "adjustments": Adjustment}
CHUNKED = {**PACKED_LOGS, **CHUNKED_BY_ID}
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
            table = table_of(state[name], record, _derived(name, _unreadable_changes))
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

    packed = {name: state[name] for name in PACKED_BY_ID}

    def table(name: str) -> RecordTable[Any]:
        """The snapshot's records of a kind by id, as it holds them."""
        count = chunks.get(name, 0)
        return RecordTable(
            PACKED_BY_ID[name],
            packed[name],
            chunked=int(count),
            reader=(getattr(count, "reader", None) or _unreadable) if count else None,
            derived=_derived(name, changes) if name in CHUNKED_BY_ID else None,
        )

    def changes() -> RecordTable[Change]:
        # The snapshot's changes as it holds them (not the agreement's, which the events
        # after it change): the statuses its adjustments had then. An adjustment whose
        # status a later event changes is read, so replaced, before it is (`revert`).
        return table("changes")

    for name in PACKED_BY_ID:
        # Snapshots taken before packing hold the records themselves.
        if isinstance(packed[name], str | OpenedRows):
            state[name] = table(name)
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


def _derived(name: str, changes: Callable[[], RecordTable[Change]]) -> Derived:
    """How the field later events change is stored in a kind's chunks, and derived."""
    if name == "changes":
        return named_by(Change, "reverted_by", "reverts")
    return Derived.of(Adjustment, "status", ChangeStatus.ACTIVE.value, _statuses(changes))


_CHANGE_ID = [f.name for f in dataclasses.fields(Adjustment)].index("change_id")
_STATUS = [f.name for f in dataclasses.fields(Adjustment)].index("status")


def _statuses(changes: Callable[[], RecordTable[Change]]) -> Callable[..., None]:
    """Sets the status of adjustments read from a chunk: in effect while the chain of
    the change that added them is of odd length (domain.agreement.state.is_in_effect),
    in the snapshot's `changes`."""

    def derive(rows: list[list[Any]], _: Iterable[Any]) -> None:
        table = changes()
        for row in rows:
            link, length = table[row[_CHANGE_ID]], 1
            while link.reverted_by is not None:
                link, length = table[link.reverted_by], length + 1
            status = ChangeStatus.ACTIVE if length % 2 else ChangeStatus.REVERTED
            row[_STATUS] = status.value

    return derive


def _unreadable_changes() -> RecordTable[Change]:
    # A snapshot being taken never reads its chunks back.
    raise RuntimeError("A snapshot being taken derives no status.")


def _unreadable() -> list[str]:
    # A snapshot decoded without its store (its chunks' reader): never read as if the
    # chunks were empty.
    raise RuntimeError("A snapshot's stored chunks are read through the snapshot store.")
