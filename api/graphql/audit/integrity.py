"""`verifyIntegrity`: an agreement's events proven part of the latest signed checkpoint
(its hash chain, a Merkle inclusion proof against the signed root, and the service's tag
on every event not yet checkpointed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import ForbiddenError, NotFoundError
from api.graphql.ids import agreement_uuid
from api.integrity import checkpoint_check
from domain.access import sees_all


@strawberry.enum(description="What the check could prove about an agreement's history.")
class IntegrityStatus(Enum):
    VERIFIED = "VERIFIED"
    NOT_YET_VERIFIED = "NOT_YET_VERIFIED"
    BROKEN = "BROKEN"


@strawberry.type
class IntegrityBreak:
    kind: str
    version: int | None
    detail: str


@strawberry.type
class SignedCheckpoint:
    position: int
    size: int = strawberry.field(description="Events covered (the Merkle tree's leaves).")
    root: str
    recorded_at: str
    signature: str
    public_key: str
    public_key_trusted: bool = strawberry.field(
        description="Whether the key is one this service trusts (its own, or configured)."
    )
    signature_valid: bool = strawberry.field(
        description="Signed by a trusted key, and the signature matches."
    )


@strawberry.type(description="An open alarm about this agreement's stored data.")
class IntegrityAlarm:
    kind: str
    subject: str
    detail: str
    raised_at: datetime


@strawberry.type
class IntegrityReport:
    agreement_id: strawberry.ID
    intact: bool = strawberry.field(
        description="True only when every event is proven part of the latest signed "
        "checkpoint and nothing is broken (status VERIFIED)."
    )
    status: IntegrityStatus = strawberry.field(
        description="VERIFIED: every event proven part of the latest signed checkpoint "
        "(a Merkle inclusion proof against its signed root). NOT_YET_VERIFIED: nothing "
        "wrong found, but some events are newer than that checkpoint (they carry the "
        "service's tag) and await the next checkpoint. BROKEN: see firstBreak."
    )
    events_checked: int
    events_verified: int = strawberry.field(
        description="Events proven part of the latest signed checkpoint."
    )
    events_pending: int = strawberry.field(
        description="Events newer than the latest signed checkpoint, not yet verified."
    )
    first_break: IntegrityBreak | None
    latest_checkpoint: SignedCheckpoint | None
    open_alarms: list[IntegrityAlarm] = strawberry.field(
        description="Open alarms about this agreement's stored data, raised by any "
        "process (a snapshot that failed its tag, what `crafting verify` found)."
    )


async def verify_integrity(
    info: Info[Context, None], agreement_id: strawberry.ID
) -> IntegrityReport:
    """Prove one agreement's events part of the latest signed checkpoint (auditors, HR,
    integrations)."""
    ctx = info.context
    if not sees_all(ctx.actor):
        raise ForbiddenError("Verifying integrity needs HR, AUDITOR or INTEGRATION.")
    stream = agreement_uuid(agreement_id, "agreementId")
    found = await asyncio.to_thread(ctx.ports.audit.check_agreement, stream)
    raised = await asyncio.to_thread(ctx.ports.audit.open_alarms)
    if found.events == 0:
        raise NotFoundError("No agreement with this id.", field="agreementId")
    broken, status = found.first_break, IntegrityStatus(found.status.value)
    return IntegrityReport(
        agreement_id=agreement_id,
        intact=status is IntegrityStatus.VERIFIED,
        status=status,
        events_checked=found.events,
        events_verified=found.verified,
        events_pending=found.pending,
        first_break=None
        if broken is None
        else IntegrityBreak(kind=broken.kind, version=broken.version, detail=broken.detail),
        latest_checkpoint=None
        if found.checkpoint is None
        else _checkpoint(found.checkpoint, ctx.ports.audit.trusted_public_keys()),
        open_alarms=[
            IntegrityAlarm(
                kind=a.kind,
                subject=a.subject,
                detail=a.detail,
                raised_at=datetime.fromtimestamp(a.raised_at, UTC),
            )
            for a in raised
            if str(stream) in a.subject or str(stream) in a.detail
        ],
    )


def _checkpoint(row: dict[str, object], trusted: frozenset[str]) -> SignedCheckpoint:
    return SignedCheckpoint(**vars(checkpoint_check(row, trusted)))
