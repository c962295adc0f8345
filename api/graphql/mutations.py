"""The Mutation type: one `input`, a payload with the agreement as the write model has
it after the command, the position of its last event, and `userErrors`."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.agreement_types import Agreement
from api.graphql.context import Context
from api.graphql.errors import BadInputError, ForbiddenError
from api.graphql.inputs import (
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
    UpsertPeopleInput,
    command_from,
)
from api.graphql.people_types import Person
from api.graphql.rows import shown_as
from api.metrics import COMMANDS
from domain.application import commands as c
from domain.errors import DomainError, Forbidden
from projections.rows import agreement_row, person_row

Ctx = Info[Context, None]


@strawberry.type
class UserError:
    field: str | None
    message: str
    code: str


@strawberry.type
class AgreementPayload:
    agreement: Agreement | None
    position: int | None = strawberry.field(description="Log position of the last event.")
    replayed: bool = strawberry.field(description="True when an idempotency key matched.")
    user_errors: list[UserError]


@strawberry.type
class UpsertPeoplePayload:
    people: list[Person]
    position: int | None
    replayed: bool
    user_errors: list[UserError]


def _error(error: DomainError | BadInputError) -> list[UserError]:
    if isinstance(error, DomainError):
        return [UserError(field=error.field, message=error.message, code=error.code)]
    extensions = error.extensions or {}
    return [UserError(field=extensions.get("field"), message=error.message, code="INVALID_INPUT")]


async def _execute(ctx: Context, command: c.Command) -> Any:
    """Run a command off the event loop; DomainError and Forbidden are re-raised."""
    name = type(command).__name__
    try:
        result = await asyncio.to_thread(ctx.ports.commands.execute, ctx.command_request, command)
    except Forbidden as error:
        COMMANDS.labels(name, "FORBIDDEN").inc()
        raise ForbiddenError(error.message) from None
    except DomainError as error:
        COMMANDS.labels(name, error.code).inc()
        raise
    COMMANDS.labels(name, "OK").inc()
    return result


async def _agreement(ctx: Context, input: object, command: type[c.Command]) -> AgreementPayload:
    """Run the command `input` asks for on an agreement; rule violations as userErrors."""
    try:
        result = await _execute(ctx, command_from(input, command))
    except (DomainError, BadInputError) as error:
        return AgreementPayload(
            agreement=None, position=None, replayed=False, user_errors=_error(error)
        )
    row = agreement_row(result.agreement, result.position)
    return AgreementPayload(
        agreement=shown_as(Agreement, row),
        position=result.position,
        replayed=result.replayed,
        user_errors=[],
    )


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def propose_agreement(self, info: Ctx, input: ProposeAgreementInput) -> AgreementPayload:
        """An employee (or HR for them) proposes an agreement."""
        return await _agreement(info.context, input, c.ProposeAgreement)

    @strawberry.mutation
    async def revise_proposal(self, info: Ctx, input: ReviseProposalInput) -> AgreementPayload:
        """The employee revises a proposal (PROPOSED or CHANGES_REQUESTED)."""
        return await _agreement(info.context, input, c.ReviseProposal)

    @strawberry.mutation
    async def request_changes(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        """The manager asks for changes to a proposal (reason required)."""
        return await _agreement(info.context, input, c.RequestChanges)

    @strawberry.mutation
    async def approve_agreement(self, info: Ctx, input: ApproveAgreementInput) -> AgreementPayload:
        """The manager approves a proposal with guardrails; it becomes ACTIVE."""
        return await _agreement(info.context, input, c.ApproveAgreement)

    @strawberry.mutation
    async def reject_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        """The manager rejects a proposal (reason required)."""
        return await _agreement(info.context, input, c.RejectAgreement)

    @strawberry.mutation
    async def set_guardrails(self, info: Ctx, input: SetGuardrailsInput) -> AgreementPayload:
        """The manager changes the guardrails (a reversible change)."""
        return await _agreement(info.context, input, c.SetGuardrails)

    @strawberry.mutation
    async def add_adjustment(self, info: Ctx, input: AddAdjustmentInput) -> AgreementPayload:
        """The manager adds an adjustment to an active agreement."""
        return await _agreement(info.context, input, c.AddAdjustment)

    @strawberry.mutation
    async def reallocate_task(self, info: Ctx, input: ReallocateTaskInput) -> AgreementPayload:
        """Move a task's hours to someone else (within the receiver's limit)."""
        return await _agreement(info.context, input, c.ReallocateTask)

    @strawberry.mutation
    async def record_review(self, info: Ctx, input: RecordReviewInput) -> AgreementPayload:
        """The manager records a review and the next review date."""
        return await _agreement(info.context, input, c.RecordReview)

    @strawberry.mutation
    async def record_artifact(self, info: Ctx, input: RecordArtifactInput) -> AgreementPayload:
        """The employee or manager records evidence of progress."""
        return await _agreement(info.context, input, c.RecordArtifact)

    @strawberry.mutation
    async def revert_change(self, info: Ctx, input: RevertChangeInput) -> AgreementPayload:
        """Undo one change still in effect (a revert of a revert re-applies it)."""
        return await _agreement(info.context, input, c.RevertChange)

    @strawberry.mutation
    async def revert_to_version(self, info: Ctx, input: RevertToVersionInput) -> AgreementPayload:
        """Undo every change after a version, atomically."""
        return await _agreement(info.context, input, c.RevertToVersion)

    @strawberry.mutation
    async def pause_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        """The manager pauses an active agreement (reason required)."""
        return await _agreement(info.context, input, c.PauseAgreement)

    @strawberry.mutation
    async def resume_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        """The manager resumes a paused agreement."""
        return await _agreement(info.context, input, c.ResumeAgreement)

    @strawberry.mutation
    async def complete_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        """The manager completes the agreement."""
        return await _agreement(info.context, input, c.CompleteAgreement)

    @strawberry.mutation
    async def withdraw_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        """The employee withdraws the agreement (reason required)."""
        return await _agreement(info.context, input, c.WithdrawAgreement)

    @strawberry.mutation
    async def upsert_people(self, info: Ctx, input: UpsertPeopleInput) -> UpsertPeoplePayload:
        """HR or an integration pushes people into the directory."""
        try:
            result = await _execute(info.context, input.command())
        except DomainError as error:
            return UpsertPeoplePayload(
                people=[], position=None, replayed=False, user_errors=_error(error)
            )
        return UpsertPeoplePayload(
            people=[shown_as(Person, person_row(p)) for p in result.people],
            position=result.position,
            replayed=result.replayed,
            user_errors=[],
        )
