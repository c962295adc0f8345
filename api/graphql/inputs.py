"""The mutations' input types, and how an input becomes the domain's command.

An input names its fields as the command and the value objects do, so one function
(`command_from`) turns any input into its command: nested inputs become the value
object they stand for (`ValueInput`), enums their values, lists stay lists.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from typing import Any, ClassVar, TypeVar

import strawberry

from api.graphql.enums import AdjustmentKind, ArtifactKind, ReviewOutcome
from api.graphql.ids import agreement_uuid
from domain.application import commands as c
from domain.person import Profile
from domain.values import AdjustmentDraft, CareerGoal, Guardrails

C = TypeVar("C", bound=c.Command)


class ValueInput:
    """An input that stands for one of the domain's value objects (same field names)."""

    VALUE: ClassVar[type[Any]]

    def value(self) -> Any:
        """The value object, its lists as tuples (value objects are immutable)."""
        return self.VALUE(
            **{
                f.name: _frozen(_plain(getattr(self, f.name)))
                for f in dataclasses.fields(self.VALUE)
                if hasattr(self, f.name)
            }
        )


def _plain(value: Any) -> Any:
    if isinstance(value, ValueInput):
        return value.value()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def command_from(input: object, command: type[C]) -> C:
    """The command a mutation's input asks for; BAD_REQUEST for a malformed id."""
    values = {
        f.name: _plain(getattr(input, f.name))
        for f in dataclasses.fields(command)
        if hasattr(input, f.name)
    }
    if "agreement_id" in values:
        values["agreement_id"] = agreement_uuid(values["agreement_id"], "agreementId")
    return command(**values)


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
class RevertChangeInput(AgreementCommandInput):
    reason: str = strawberry.field(description="Why it is reverted (required).")
    change_id: strawberry.ID


@strawberry.input
class RevertToVersionInput(AgreementCommandInput):
    reason: str = strawberry.field(description="Why it is reverted (required).")
    version: int


@strawberry.input
class PersonInput(ValueInput):
    VALUE = Profile
    id: str
    display_name: str
    email: str
    contracted_hours_per_week: float
    manager_id: str | None = None
    team_id: str | None = None
    active: bool = True

    def entry(self) -> c.DirectoryEntry:
        """The person's id and directory profile, as the directory command takes them."""
        return c.DirectoryEntry(self.id, self.value())


@strawberry.input
class UpsertPeopleInput:
    people: list[PersonInput]
    idempotency_key: str | None = None

    def command(self) -> c.UpsertPeople:
        """The directory command this input asks for."""
        return c.UpsertPeople(
            idempotency_key=self.idempotency_key, people=[p.entry() for p in self.people]
        )
