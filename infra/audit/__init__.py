"""Integrity over the event store: the store as auditors read it (`store`), signed
checkpoints (`checkpointing`), verification (`verification`) and the export (`export`)."""

from infra.audit.agreement_check import AgreementIntegrity, Status, check_agreement
from infra.audit.checkpointing import Checkpointing, sign_checkpoint
from infra.audit.export import checkpoint_line, export
from infra.audit.keys_check import KeyProblem, verify_keys
from infra.audit.read_models_check import Difference, ReadModelReport, verify_read_models
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
    "Checkpointing",
    "Difference",
    "KeyProblem",
    "ReadModelReport",
    "SnapshotProblem",
    "Status",
    "Store",
    "check_agreement",
    "checkpoint_line",
    "checkpoints",
    "export",
    "report_tampered_snapshot",
    "sign_checkpoint",
    "snapshot_table",
    "verify_keys",
    "verify_read_models",
    "verify_snapshots",
    "verify_store",
    "verify_stream",
]
