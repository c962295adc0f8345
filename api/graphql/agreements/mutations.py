"""The agreement mutations: each runs its command and answers with the agreement as
the write model has it after the command, the position of its last event, and
`userErrors` for a broken rule."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.agreements.inputs import (
    AddAdjustmentInput,
    AgreementCommandInput,
    ApproveAgreementInput,
    ProposeAgreementInput,
    ReallocateTaskInput,
    RecordArtifactInput,
    RecordReviewInput,
    RevertChangeInput,
    RevertToVersionInput,
    ReviseProposalInput,
    SetGuardrailsInput,
    SetSketchInput,
)
from api.graphql.agreements.types import Agreement, Change
from api.graphql.commands import UserError, command_from, execute, user_errors
from api.graphql.context import Context
from api.graphql.errors import BadInputError
from api.graphql.rows import shown_as
from domain.application import commands as c
from domain.errors import DomainError
from projections.rows import agreement_row

Ctx = Info[Context, None]


@strawberry.type
class AgreementPayload:
    agreement: Agreement | None
    position: int | None = strawberry.field(
        description="Log position of the agreement's last event after the command: "
        "auditLog(filter: {agreementId}) lists it; a replay returns the same one."
    )
    last_position: int | None = strawberry.field(
        default=None,
        description="Log position of the command's last event. Equal to `position` "
        "except when the command also booked hours (reallocateTask, reverting a "
        "reallocation): its hours-ledger events follow the agreement's. Pass it as "
        "consistentWith to see those too in changes and auditLog; a replay answers "
        "with `position`.",
    )
    replayed: bool = strawberry.field(description="True when an idempotency key matched.")
    would_revert: list[Change] | None = strawberry.field(
        default=None,
        description="revertToVersion with dryRun: the changes it would revert, in order "
        "(nothing was recorded; `agreement` is what it would become).",
    )
    user_errors: list[UserError]


async def _run(ctx: Context, input: object, command: type[c.Command]) -> AgreementPayload:
    """Run the command `input` asks for on an agreement; rule violations as userErrors."""
    try:
        result = await execute(ctx, command_from(input, command))
    except (DomainError, BadInputError) as error:
        return AgreementPayload(
            agreement=None, position=None, replayed=False, user_errors=user_errors(error)
        )
    assert result.agreement is not None
    row = agreement_row(result.agreement, result.position)
    would_revert = None
    if result.dry_run:
        changes = {r["change_id"]: r for r in row["_children"]["changes"]()}
        would_revert = [shown_as(Change, changes[i]) for i in result.would_revert]
    return AgreementPayload(
        agreement=shown_as(Agreement, row),
        position=result.position,
        last_position=result.last_position or result.position,
        replayed=result.replayed,
        would_revert=would_revert,
        user_errors=[],
    )


async def propose_agreement(info: Ctx, input: ProposeAgreementInput) -> AgreementPayload:
    """An employee (or HR for them) proposes an agreement."""
    return await _run(info.context, input, c.ProposeAgreement)


async def revise_proposal(info: Ctx, input: ReviseProposalInput) -> AgreementPayload:
    """The employee revises a proposal (PROPOSED or CHANGES_REQUESTED)."""
    return await _run(info.context, input, c.ReviseProposal)


async def request_changes(info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
    """The manager asks for changes to a proposal (reason required)."""
    return await _run(info.context, input, c.RequestChanges)


async def approve_agreement(info: Ctx, input: ApproveAgreementInput) -> AgreementPayload:
    """The manager approves a proposal with guardrails; it becomes ACTIVE."""
    return await _run(info.context, input, c.ApproveAgreement)


async def reject_agreement(info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
    """The manager rejects a proposal (reason required)."""
    return await _run(info.context, input, c.RejectAgreement)


async def set_guardrails(info: Ctx, input: SetGuardrailsInput) -> AgreementPayload:
    """The manager changes the guardrails (a reversible change)."""
    return await _run(info.context, input, c.SetGuardrails)


async def add_adjustment(info: Ctx, input: AddAdjustmentInput) -> AgreementPayload:
    """The manager adds an adjustment to an active agreement."""
    return await _run(info.context, input, c.AddAdjustment)


async def reallocate_task(info: Ctx, input: ReallocateTaskInput) -> AgreementPayload:
    """Move a task's hours to someone else (within the receiver's limit)."""
    return await _run(info.context, input, c.ReallocateTask)


async def record_review(info: Ctx, input: RecordReviewInput) -> AgreementPayload:
    """The manager records a review and the next review date."""
    return await _run(info.context, input, c.RecordReview)


async def record_artifact(info: Ctx, input: RecordArtifactInput) -> AgreementPayload:
    """The employee or manager records evidence of progress."""
    return await _run(info.context, input, c.RecordArtifact)


async def set_sketch(info: Ctx, input: SetSketchInput) -> AgreementPayload:
    """The employee (or HR) draws the job crafting sketch (a reversible change)."""
    return await _run(info.context, input, c.SetSketch)


async def revert_change(info: Ctx, input: RevertChangeInput) -> AgreementPayload:
    """Undo one change still in effect (a revert of a revert re-applies it)."""
    return await _run(info.context, input, c.RevertChange)


async def revert_to_version(info: Ctx, input: RevertToVersionInput) -> AgreementPayload:
    """Undo every change after a version, atomically."""
    return await _run(info.context, input, c.RevertToVersion)


async def pause_agreement(info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
    """The manager pauses an active agreement (reason required)."""
    return await _run(info.context, input, c.PauseAgreement)


async def resume_agreement(info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
    """The manager resumes a paused agreement."""
    return await _run(info.context, input, c.ResumeAgreement)


async def complete_agreement(info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
    """The manager completes the agreement."""
    return await _run(info.context, input, c.CompleteAgreement)


async def withdraw_agreement(info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
    """The employee withdraws the agreement (reason required)."""
    return await _run(info.context, input, c.WithdrawAgreement)
