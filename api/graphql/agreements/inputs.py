"""The inputs of the agreement mutations. Each names its fields as its command and the
domain's value objects do, so `api.graphql.commands.command_from` makes the command."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql.agreements.sketch import SketchInput
from api.graphql.commands import ValueInput
from api.graphql.enums import AdjustmentKind, ArtifactKind, ReviewOutcome
from domain.values import AdjustmentDraft, CareerGoal, Guardrails


@strawberry.input
class CareerGoalInput(ValueInput):
    VALUE = CareerGoal
    target_role: str
    skills: list[str] = strawberry.field(default_factory=list)
    target_date: date | None = None


@strawberry.input
class AdjustmentInput(ValueInput):
    VALUE = AdjustmentDraft
    kind: AdjustmentKind
    description: str
    hours_per_week: float
    starts_on: date | None = None
    ends_on: date | None = None


@strawberry.input
class GuardrailsInput(ValueInput):
    VALUE = Guardrails
    max_development_hours_per_week: float
    review_every_days: int
    protected_responsibilities: list[str] = strawberry.field(default_factory=list)
    ends_on: date | None = None


@strawberry.input
class ProposalInput:
    """What a proposal holds (proposeAgreement, reviseProposal)."""

    title: str
    career_goal: CareerGoalInput
    adjustments: list[AdjustmentInput] = strawberry.field(default_factory=list)


@strawberry.input
class ProposeAgreementInput(ProposalInput):
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


@strawberry.input
class ReviseProposalInput(AgreementCommandInput, ProposalInput):
    pass


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
class SetSketchInput(AgreementCommandInput):
    sketch: SketchInput = strawberry.field(
        description="The whole sketch: it takes the place of the one there."
    )


@strawberry.input
class RevertChangeInput(AgreementCommandInput):
    reason: str = strawberry.field(description="Why it is reverted (required).")
    change_id: strawberry.ID


@strawberry.input
class RevertToVersionInput(AgreementCommandInput):
    reason: str = strawberry.field(description="Why it is reverted (required).")
    version: int
    dry_run: bool = strawberry.field(
        default=False,
        description="Judge it and answer with what it would revert (`wouldRevert`), "
        "recording nothing.",
    )
