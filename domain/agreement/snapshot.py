"""How an agreement's records are held in its snapshots: packed (domain.packing).

Loaded, records by id are read one by one as used, and the append-only histories all
at once when first read.
"""

from __future__ import annotations

from typing import Any

from domain.packing import OpenedRows, RecordLog, RecordTable, pack_by_id
from domain.records import Adjustment, Artifact, Change, Reallocation, Review
from domain.values import AgreementStatus

PACKED_BY_ID: dict[str, type[Any]] = {
    "adjustments": Adjustment,
    "reallocations": Reallocation,
    "changes": Change,
}
PACKED_LOGS: dict[str, type[Any]] = {"reviews": Review, "artifacts": Artifact}
PACKED = frozenset(PACKED_BY_ID) | frozenset(PACKED_LOGS)


def pack_state(state: dict[str, Any]) -> None:
    """Pack a snapshot's collections in place, as it is taken."""
    for name, record in PACKED_BY_ID.items():
        state[name] = pack_by_id(state[name], record)
    for name in PACKED_LOGS:
        state[name] = state[name].pack()


def unpack_state(state: dict[str, Any]) -> None:
    """Restore what JSON flattened in an agreement built from a snapshot, in place."""
    # JSON keeps enums as plain strings; the records' own enums are restored by their
    # transcodings, the aggregate's status here.
    state["status"] = AgreementStatus(state["status"])
    state.setdefault("sketch", None)  # snapshots taken before sketches existed
    # Snapshots taken before packing hold the records themselves.
    for name, record in PACKED_BY_ID.items():
        if isinstance(state[name], str | OpenedRows):
            state[name] = RecordTable(record, state[name])
    for name, record in PACKED_LOGS.items():
        value = state[name]
        state[name] = (
            RecordLog(record, packed=value)
            if isinstance(value, str | OpenedRows)
            else RecordLog(record, value)
        )
