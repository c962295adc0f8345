"""`verifyIntegrity`: an agreement's hash chain, and the latest signed checkpoint."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import ForbiddenError, NotFoundError
from api.graphql.ids import agreement_uuid
from api.integrity import checkpoint_check
from domain.access import sees_all


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


@strawberry.type
class IntegrityReport:
    agreement_id: strawberry.ID
    intact: bool
    events_checked: int
    first_break: IntegrityBreak | None
    latest_checkpoint: SignedCheckpoint | None


async def verify_integrity(
    info: Info[Context, None], agreement_id: strawberry.ID
) -> IntegrityReport:
    """Check one agreement's hash chain as stored (auditors, HR, integrations)."""
    ctx = info.context
    if not sees_all(ctx.actor):
        raise ForbiddenError("Verifying integrity needs HR, AUDITOR or INTEGRATION.")
    stream = agreement_uuid(agreement_id, "agreementId")
    verifier, latest = await asyncio.to_thread(ctx.ports.audit.check_agreement, stream)
    if verifier.events == 0:
        raise NotFoundError("No agreement with this id.", field="agreementId")
    found = verifier.first_break
    return IntegrityReport(
        agreement_id=agreement_id,
        intact=found is None,
        events_checked=verifier.events,
        first_break=None
        if found is None
        else IntegrityBreak(kind=found.kind, version=found.version, detail=found.detail),
        latest_checkpoint=None
        if latest is None
        else _checkpoint(latest, ctx.ports.audit.trusted_public_keys()),
    )


def _checkpoint(row: dict[str, object], trusted: frozenset[str]) -> SignedCheckpoint:
    return SignedCheckpoint(**vars(checkpoint_check(row, trusted)))
