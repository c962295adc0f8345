"""Integrity over the event store: the store as auditors read it (`store`), signed
checkpoints (`sealing`), verification (`verification`) and the export (`export`)."""

from infra.audit.agreement_check import AgreementIntegrity, Status, check_agreement
from infra.audit.export import checkpoint_line, export
from infra.audit.keys_check import KeyProblem, verify_keys
from infra.audit.read_models_check import Difference, ReadModelReport, verify_read_models
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
    "AgreementIntegrity",
    "Difference",
    "KeyProblem",
    "ReadModelReport",
    "Sealing",
    "SnapshotProblem",
    "Status",
    "Store",
    "check_agreement",
    "checkpoint_line",
    "checkpoints",
    "export",
    "report_tampered_snapshot",
    "seal",
    "snapshot_table",
    "verify_keys",
    "verify_read_models",
    "verify_snapshots",
    "verify_store",
    "verify_stream",
]
