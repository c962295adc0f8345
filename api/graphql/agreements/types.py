"""The agreement and its parts, read from the rows of `projections.rows` (one default
resolver reads a field by its Python name; the GraphQL name is given where it differs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.agreements.sketch import Sketch, sketch_from_json
from api.graphql.context import Context
from api.graphql.enums import (
    AdjustmentKind,
    AgreementStatus,
    ArtifactKind,
    ChangeKind,
    ChangeStatus,
    ReviewOutcome,
)
from api.graphql.ids import global_id
from api.graphql.node import Node
from api.graphql.paging import PageInfo
from api.graphql.people.types import Person
from api.graphql.rows import Row, is_row_of, shown_as
from domain.agreement.outcomes import OutcomeKind


@strawberry.type
class CareerGoal:
    target_role: str
    skills: list[str]
    target_date: date | None


@strawberry.type
class Guardrails:
    max_development_hours_per_week: float
    protected_responsibilities: list[str]
    review_every_days: int
    ends_on: date | None

    @staticmethod
    def from_json(data: dict[str, Any] | None) -> Guardrails | None:
        """Guardrails as a row holds them (camelCase JSON)."""
        if data is None:
            return None
        ends = data.get("endsOn")
        return Guardrails(
            max_development_hours_per_week=data["maxDevelopmentHoursPerWeek"],
            protected_responsibilities=list(data["protectedResponsibilities"]),
            review_every_days=data["reviewEveryDays"],
            ends_on=date.fromisoformat(ends) if ends else None,
        )


@strawberry.type
class Adjustment:
    adjustment_id: strawberry.ID = strawberry.field(name="id")
    change_id: strawberry.ID
    kind: AdjustmentKind
    description: str
    hours_per_week: float
    starts_on: date | None
    ends_on: date | None
    status: ChangeStatus


@strawberry.type
class Reallocation:
    reallocation_id: strawberry.ID = strawberry.field(name="id")
    change_id: strawberry.ID
    task: str
    hours_per_week: float
    from_person_id: str
    to_person_id: str
    effective_on: date
    reason: str
    status: ChangeStatus


@strawberry.type
class Review:
    review_id: strawberry.ID = strawberry.field(name="id")
    held_on: date
    outcome: ReviewOutcome
    notes: str | None
    next_review_on: date
    held_by: str


@strawberry.type(
    description="What an ended agreement led to, as recorded by its manager or HR "
    "(`recordOutcome`; undone by `revertOutcome`, which keeps it here as reverted)."
)
class Outcome:
    outcome_id: strawberry.ID = strawberry.field(name="id")
    kind: OutcomeKind
    achieved_on: date = strawberry.field(description="When it happened.")
    reason: str | None = strawberry.field(
        description="Why (given for STOPPED and GOAL_CHANGED). Null in a mutation's payload "
        "and in `agreementAt`, which are built from the agreement itself: its reasons stay "
        "in the events (read them here or in `auditLog`)."
    )
    recorded_by: str = strawberry.field(description="The person id of who recorded it.")
    recorded_at: datetime
    version: int = strawberry.field(description="The agreement's version that recorded it.")
    reverted: bool
    reverted_by: str | None = strawberry.field(description="Who reverted it, if reverted.")
    reverted_at: datetime | None
    revert_reason: str | None = strawberry.field(
        description="Why it was reverted (null where `reason` is)."
    )


def _agreement_global_id(root: Row) -> strawberry.ID:
    return strawberry.ID(global_id("Agreement", root["agreement_id"]))


@strawberry.type
class Artifact:
    artifact_id: strawberry.ID = strawberry.field(name="id")
    title: str
    kind: ArtifactKind
    url: str | None
    skills: list[str]
    recorded_by: str
    recorded_on: date
    agreement_id: strawberry.ID = strawberry.field(resolver=_agreement_global_id)


@strawberry.type
class Change:
    """A reversible step: revert it with `revertChange(changeId)`."""

    change_id: strawberry.ID
    kind: ChangeKind
    subject_id: strawberry.ID = strawberry.field(
        description="The adjustment, reallocation or guardrail change concerned."
    )
    root_id: strawberry.ID = strawberry.field(
        name="rootChangeId", description="The original change this chain of reverts started from."
    )
    version: int
    reverts: strawberry.ID | None = strawberry.field(name="revertsChangeId")
    reverted_by: strawberry.ID | None = strawberry.field(name="revertedByChangeId")

    in_effect: bool = strawberry.field(
        resolver=lambda root: root["reverted_by"] is None,
        description="True while this change is the newest of its chain.",
    )


async def _employee(root: Row, info: Info[Context, None]) -> Person | None:
    row = await info.context.visible_person(root["employee_id"])
    return None if row is None else shown_as(Person, row)


def _career_goal(root: Row) -> CareerGoal:
    return CareerGoal(
        target_role=root["target_role"],
        skills=list(root["skills"]),
        target_date=root["target_date"],
    )


def _guardrails(root: Row) -> Guardrails | None:
    return Guardrails.from_json(root["guardrails"])


def _sketch(root: Row) -> Sketch | None:
    return sketch_from_json(root["sketch"])


async def _children(root: Row, info: Info[Context, None], kind: str) -> list[Row]:
    """The agreement's children of one kind: built from the write model's agreement
    (payloads, time travel) or loaded from the read model, batched per request."""
    embedded = root.get("_children")
    if embedded is not None:
        built: list[Row] = embedded[kind]()
        return built
    return await info.context.children(kind).load(root["agreement_id"])


async def _adjustments(root: Row, info: Info[Context, None]) -> list[Adjustment]:
    return [shown_as(Adjustment, r) for r in await _children(root, info, "adjustments")]


async def _reallocations(root: Row, info: Info[Context, None]) -> list[Reallocation]:
    return [shown_as(Reallocation, r) for r in await _children(root, info, "reallocations")]


async def _reviews(root: Row, info: Info[Context, None]) -> list[Review]:
    return [shown_as(Review, r) for r in await _children(root, info, "reviews")]


async def _latest_review(root: Row, info: Info[Context, None]) -> Review | None:
    reviews = await _children(root, info, "reviews")
    return shown_as(Review, reviews[-1]) if reviews else None


async def _artifacts(root: Row, info: Info[Context, None]) -> list[Artifact]:
    return [shown_as(Artifact, r) for r in await _children(root, info, "artifacts")]


async def _changes(root: Row, info: Info[Context, None]) -> list[Change]:
    return [shown_as(Change, r) for r in await _children(root, info, "changes")]


async def _outcomes(root: Row, info: Info[Context, None]) -> list[Outcome]:
    return [shown_as(Outcome, r) for r in await _children(root, info, "outcomes")]


async def _outcome(root: Row, info: Info[Context, None]) -> Outcome | None:
    in_effect = [r for r in await _children(root, info, "outcomes") if not r["reverted"]]
    return shown_as(Outcome, in_effect[-1]) if in_effect else None


@strawberry.type
class Agreement(Node):
    is_type_of = is_row_of("agreement_id", "approved_by_manager_id")

    id: strawberry.ID = strawberry.field(resolver=_agreement_global_id)
    agreement_id: str = strawberry.field(description="The bare UUID, for systems that store it.")
    employee_id: str
    employee: Person | None = strawberry.field(resolver=_employee)
    approved_by_manager_id: str | None = strawberry.field(
        description="The manager who approved it (from the directory then)."
    )
    status: AgreementStatus
    title: str
    career_goal: CareerGoal = strawberry.field(resolver=_career_goal)
    guardrails: Guardrails | None = strawberry.field(resolver=_guardrails)
    sketch: Sketch | None = strawberry.field(
        resolver=_sketch,
        description="The job crafting sketch (before and after); null until one is drawn.",
    )
    development_hours: float = strawberry.field(
        name="developmentHoursPerWeek", description="Sum of ACTIVE adjustments' hours per week."
    )
    next_review_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime
    adjustments: list[Adjustment] = strawberry.field(resolver=_adjustments)
    reallocations: list[Reallocation] = strawberry.field(resolver=_reallocations)
    reviews: list[Review] = strawberry.field(resolver=_reviews)
    latest_review: Review | None = strawberry.field(resolver=_latest_review)
    artifacts: list[Artifact] = strawberry.field(resolver=_artifacts)
    changes: list[Change] = strawberry.field(resolver=_changes)
    outcome: Outcome | None = strawberry.field(
        resolver=_outcome,
        description="The outcome in effect: the latest recorded and not reverted; null "
        "until one is recorded (only on a completed or withdrawn agreement).",
    )
    outcomes: list[Outcome] = strawberry.field(
        resolver=_outcomes, description="Every outcome recorded, oldest first, reverted ones too."
    )


@strawberry.type
class AgreementEdge:
    cursor: str
    node: Agreement


@strawberry.type
class AgreementConnection:
    edges: list[AgreementEdge]
    page_info: PageInfo


@strawberry.type
class SkillEvidence:
    skill: str
    evidence_count: int


@strawberry.type
class CareerEvidence:
    person: Person
    agreements: list[Agreement]
    artifacts: list[Artifact]
    skills: list[SkillEvidence]
    reviews: list[Review]
