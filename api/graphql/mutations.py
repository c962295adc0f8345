"""The Mutation type: one `input`, a payload with the agreement as the write model has
it after the command, the position of its last event, and `userErrors`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.agreement_types import Agreement
from api.graphql.context import Context
from api.graphql.enums import AdjustmentKind, ArtifactKind, ReviewOutcome
from api.graphql.errors import BadInputError, ForbiddenError
from api.graphql.ids import agreement_uuid
from api.graphql.people_types import Person
from api.graphql.rows import shown_as
from api.metrics import COMMANDS
from domain.application import commands as c
from domain.errors import DomainError, Forbidden
from domain.person import Profile
from domain.values import AdjustmentDraft, CareerGoal, Guardrails
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


@strawberry.input
class CareerGoalInput:
    target_role: str
    skills: list[str] = strawberry.field(default_factory=list)
    target_date: date | None = None

    def value(self) -> CareerGoal:
        return CareerGoal(self.target_role, tuple(self.skills), self.target_date)


@strawberry.input
class AdjustmentInput:
    kind: AdjustmentKind
    description: str
    hours_per_week: float
    starts_on: date | None = None
    ends_on: date | None = None

    def value(self) -> AdjustmentDraft:
        return AdjustmentDraft(
            self.kind, self.description, self.hours_per_week, self.starts_on, self.ends_on
        )


@strawberry.input
class GuardrailsInput:
    max_development_hours_per_week: float
    review_every_days: int
    protected_responsibilities: list[str] = strawberry.field(default_factory=list)
    ends_on: date | None = None

    def value(self) -> Guardrails:
        return Guardrails(
            self.max_development_hours_per_week,
            tuple(self.protected_responsibilities),
            self.review_every_days,
            self.ends_on,
        )


@strawberry.input
class ProposeAgreementInput:
    title: str
    career_goal: CareerGoalInput
    adjustments: list[AdjustmentInput] = strawberry.field(default_factory=list)
    employee_id: str | None = strawberry.field(default=None, description="Default: you.")
    idempotency_key: str | None = None
    reason: str | None = None


REASON = (
    "Why: required by pauseAgreement, rejectAgreement, requestChanges and "
    "withdrawAgreement (REASON_REQUIRED without it); optional otherwise."
)


@strawberry.input(description="Fields every command on an existing agreement takes.")
class AgreementCommandInput:
    agreement_id: strawberry.ID
    expected_version: int | None = None
    idempotency_key: str | None = None
    reason: str | None = strawberry.field(default=None, description=REASON)

    def common(self) -> dict[str, Any]:
        return {
            "agreement_id": agreement_uuid(self.agreement_id, "agreementId"),
            "expected_version": self.expected_version,
            "idempotency_key": self.idempotency_key,
            "reason": self.reason,
        }


@strawberry.input
class ReviseProposalInput(AgreementCommandInput):
    title: str
    career_goal: CareerGoalInput
    adjustments: list[AdjustmentInput] = strawberry.field(default_factory=list)


@strawberry.input
class ApproveAgreementInput(AgreementCommandInput):
    guardrails: GuardrailsInput


@strawberry.input
class SetGuardrailsInput(AgreementCommandInput):
    guardrails: GuardrailsInput


@strawberry.input
class AddAdjustmentInput(AgreementCommandInput):
    adjustment: AdjustmentInput


@strawberry.input
class ReallocateTaskInput(AgreementCommandInput):
    reason: str = strawberry.field(description="Why the work moves (required).")
    task: str
    hours_per_week: float
    to_person_id: str
    from_person_id: str | None = strawberry.field(
        default=None, description="Default: the employee."
    )
    effective_on: date | None = None


@strawberry.input
class RecordReviewInput(AgreementCommandInput):
    outcome: ReviewOutcome
    held_on: date | None = None
    notes: str | None = None
    next_review_on: date | None = None


@strawberry.input
class RecordArtifactInput(AgreementCommandInput):
    title: str
    kind: ArtifactKind
    url: str | None = None
    skills: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class RevertChangeInput(AgreementCommandInput):
    reason: str = strawberry.field(description="Why it is reverted (required).")
    change_id: strawberry.ID


@strawberry.input
class RevertToVersionInput(AgreementCommandInput):
    reason: str = strawberry.field(description="Why it is reverted (required).")
    version: int


@strawberry.input
class PersonInput:
    id: str
    display_name: str
    email: str
    contracted_hours_per_week: float
    manager_id: str | None = None
    team_id: str | None = None
    active: bool = True


@strawberry.input
class UpsertPeopleInput:
    people: list[PersonInput]
    idempotency_key: str | None = None


def _error(error: DomainError | BadInputError) -> list[UserError]:
    if isinstance(error, DomainError):
        return [UserError(field=error.field, message=error.message, code=error.code)]
    extensions = error.extensions or {}
    return [UserError(field=extensions.get("field"), message=error.message, code="INVALID_INPUT")]


async def _execute(ctx: Context, build: Callable[[], c.Command]) -> Any:
    """Run a command off the event loop; DomainError and Forbidden are re-raised."""
    command = build()
    name = type(command).__name__
    try:
        result = await asyncio.to_thread(ctx.container.app.execute, ctx.command_request, command)
    except Forbidden as error:
        COMMANDS.labels(name, "FORBIDDEN").inc()
        raise ForbiddenError(error.message) from None
    except DomainError as error:
        COMMANDS.labels(name, error.code).inc()
        raise
    COMMANDS.labels(name, "OK").inc()
    return result


async def _agreement(ctx: Context, build: Callable[[], c.Command]) -> AgreementPayload:
    try:
        result = await _execute(ctx, build)
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


def _goal_and_drafts(i: ProposeAgreementInput | ReviseProposalInput) -> dict[str, Any]:
    return {
        "title": i.title,
        "career_goal": i.career_goal.value(),
        "adjustments": [a.value() for a in i.adjustments],
    }


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def propose_agreement(self, info: Ctx, input: ProposeAgreementInput) -> AgreementPayload:
        return await _agreement(
            info.context,
            lambda: c.ProposeAgreement(
                employee_id=input.employee_id,
                idempotency_key=input.idempotency_key,
                reason=input.reason,
                **_goal_and_drafts(input),
            ),
        )

    @strawberry.mutation
    async def revise_proposal(self, info: Ctx, input: ReviseProposalInput) -> AgreementPayload:
        return await _agreement(
            info.context, lambda: c.ReviseProposal(**input.common(), **_goal_and_drafts(input))
        )

    @strawberry.mutation
    async def request_changes(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        return await _agreement(info.context, lambda: c.RequestChanges(**input.common()))

    @strawberry.mutation
    async def approve_agreement(self, info: Ctx, input: ApproveAgreementInput) -> AgreementPayload:
        return await _agreement(
            info.context,
            lambda: c.ApproveAgreement(**input.common(), guardrails=input.guardrails.value()),
        )

    @strawberry.mutation
    async def reject_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        return await _agreement(info.context, lambda: c.RejectAgreement(**input.common()))

    @strawberry.mutation
    async def set_guardrails(self, info: Ctx, input: SetGuardrailsInput) -> AgreementPayload:
        return await _agreement(
            info.context,
            lambda: c.SetGuardrails(**input.common(), guardrails=input.guardrails.value()),
        )

    @strawberry.mutation
    async def add_adjustment(self, info: Ctx, input: AddAdjustmentInput) -> AgreementPayload:
        return await _agreement(
            info.context,
            lambda: c.AddAdjustment(**input.common(), adjustment=input.adjustment.value()),
        )

    @strawberry.mutation
    async def reallocate_task(self, info: Ctx, input: ReallocateTaskInput) -> AgreementPayload:
        return await _agreement(
            info.context,
            lambda: c.ReallocateTask(
                **input.common(),
                task=input.task,
                hours_per_week=input.hours_per_week,
                to_person_id=input.to_person_id,
                from_person_id=input.from_person_id,
                effective_on=input.effective_on,
            ),
        )

    @strawberry.mutation
    async def record_review(self, info: Ctx, input: RecordReviewInput) -> AgreementPayload:
        return await _agreement(
            info.context,
            lambda: c.RecordReview(
                **input.common(),
                outcome=input.outcome.value,
                held_on=input.held_on,
                notes=input.notes,
                next_review_on=input.next_review_on,
            ),
        )

    @strawberry.mutation
    async def record_artifact(self, info: Ctx, input: RecordArtifactInput) -> AgreementPayload:
        return await _agreement(
            info.context,
            lambda: c.RecordArtifact(
                **input.common(),
                title=input.title,
                kind=input.kind.value,
                url=input.url,
                skills=list(input.skills),
            ),
        )

    @strawberry.mutation
    async def revert_change(self, info: Ctx, input: RevertChangeInput) -> AgreementPayload:
        return await _agreement(
            info.context, lambda: c.RevertChange(**input.common(), change_id=str(input.change_id))
        )

    @strawberry.mutation
    async def revert_to_version(self, info: Ctx, input: RevertToVersionInput) -> AgreementPayload:
        return await _agreement(
            info.context, lambda: c.RevertToVersion(**input.common(), version=input.version)
        )

    @strawberry.mutation
    async def pause_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        return await _agreement(info.context, lambda: c.PauseAgreement(**input.common()))

    @strawberry.mutation
    async def resume_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        return await _agreement(info.context, lambda: c.ResumeAgreement(**input.common()))

    @strawberry.mutation
    async def complete_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        return await _agreement(info.context, lambda: c.CompleteAgreement(**input.common()))

    @strawberry.mutation
    async def withdraw_agreement(self, info: Ctx, input: AgreementCommandInput) -> AgreementPayload:
        return await _agreement(info.context, lambda: c.WithdrawAgreement(**input.common()))

    @strawberry.mutation
    async def upsert_people(self, info: Ctx, input: UpsertPeopleInput) -> UpsertPeoplePayload:
        command = c.UpsertPeople(
            idempotency_key=input.idempotency_key,
            people=[
                c.PersonInput(
                    p.id,
                    Profile(
                        p.display_name,
                        p.email,
                        p.manager_id,
                        p.team_id,
                        p.contracted_hours_per_week,
                        p.active,
                    ),
                )
                for p in input.people
            ],
        )
        try:
            result = await _execute(info.context, lambda: command)
        except DomainError as error:
            return UpsertPeoplePayload(
                people=[], position=None, replayed=False, user_errors=_error(error)
            )
        return UpsertPeoplePayload(
            people=[_person_from(p) for p in result.people],
            position=result.position,
            replayed=result.replayed,
            user_errors=[],
        )


def _person_from(person: Any) -> Person:
    """The write model's person, in the read row's shape (the read model may lag)."""
    return shown_as(Person, person_row(person))
