"""Integrity over the event store: the store as auditors read it (`store`), signed
checkpoints (`sealing`), verification (`verification`) and the export (`export`)."""

from infra.audit.export import checkpoint_line, export
from infra.audit.sealing import Sealing, seal
from infra.audit.store import (
    INTEGRITY_ALARMS,
    UNTAGGED_EVENT,
    Store,
    checkpoints,
    report_tampered_snapshot,
)
from infra.audit.verification import (
    SnapshotProblem,
    snapshot_table,
    verify_snapshots,
    verify_store,
    verify_stream,
)

__all__ = [
    "INTEGRITY_ALARMS",
    "UNTAGGED_EVENT",
    "Sealing",
    "SnapshotProblem",
    "Store",
    "checkpoint_line",
    "checkpoints",
    "export",
    "report_tampered_snapshot",
    "seal",
    "snapshot_table",
    "verify_snapshots",
    "verify_store",
    "verify_stream",
]
