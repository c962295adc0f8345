"""The agreement and its parts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

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
from api.graphql.scalars import utc

Row = dict[str, Any]


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
    row: strawberry.Private[Row]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row["adjustment_id"])

    @strawberry.field
    def change_id(self) -> strawberry.ID:
        return strawberry.ID(self.row["change_id"])

    @strawberry.field
    def kind(self) -> AdjustmentKind:
        return AdjustmentKind(self.row["kind"])

    @strawberry.field
    def description(self) -> str:
        return str(self.row["description"])

    @strawberry.field
    def hours_per_week(self) -> float:
        return float(self.row["hours_per_week"])

    @strawberry.field
    def starts_on(self) -> date | None:
        return self.row["starts_on"]  # type: ignore[no-any-return]

    @strawberry.field
    def ends_on(self) -> date | None:
        return self.row["ends_on"]  # type: ignore[no-any-return]

    @strawberry.field
    def status(self) -> ChangeStatus:
        return ChangeStatus(self.row["status"])


@strawberry.type
class Reallocation:
    row: strawberry.Private[Row]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row["reallocation_id"])

    @strawberry.field
    def change_id(self) -> strawberry.ID:
        return strawberry.ID(self.row["change_id"])

    @strawberry.field
    def task(self) -> str:
        return str(self.row["task"])

    @strawberry.field
    def hours_per_week(self) -> float:
        return float(self.row["hours_per_week"])

    @strawberry.field
    def from_person_id(self) -> str:
        return str(self.row["from_person_id"])

    @strawberry.field
    def to_person_id(self) -> str:
        return str(self.row["to_person_id"])

    @strawberry.field
    def effective_on(self) -> date:
        return self.row["effective_on"]  # type: ignore[no-any-return]

    @strawberry.field
    def reason(self) -> str:
        return str(self.row["reason"])

    @strawberry.field
    def status(self) -> ChangeStatus:
        return ChangeStatus(self.row["status"])


@strawberry.type
class Review:
    row: strawberry.Private[Row]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row["review_id"])

    @strawberry.field
    def held_on(self) -> date:
        return self.row["held_on"]  # type: ignore[no-any-return]

    @strawberry.field
    def outcome(self) -> ReviewOutcome:
        return ReviewOutcome(self.row["outcome"])

    @strawberry.field
    def notes(self) -> str | None:
        return self.row["notes"]  # type: ignore[no-any-return]

    @strawberry.field
    def next_review_on(self) -> date:
        return self.row["next_review_on"]  # type: ignore[no-any-return]

    @strawberry.field
    def held_by(self) -> str:
        return str(self.row["held_by"])


@strawberry.type
class Artifact:
    row: strawberry.Private[Row]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row["artifact_id"])

    @strawberry.field
    def title(self) -> str:
        return str(self.row["title"])

    @strawberry.field
    def kind(self) -> ArtifactKind:
        return ArtifactKind(self.row["kind"])

    @strawberry.field
    def url(self) -> str | None:
        return self.row["url"]  # type: ignore[no-any-return]

    @strawberry.field
    def skills(self) -> list[str]:
        return list(self.row["skills"])

    @strawberry.field
    def recorded_by(self) -> str:
        return str(self.row["recorded_by"])

    @strawberry.field
    def recorded_on(self) -> date:
        return self.row["recorded_on"]  # type: ignore[no-any-return]

    @strawberry.field
    def agreement_id(self) -> strawberry.ID:
        return strawberry.ID(global_id("Agreement", self.row["agreement_id"]))


@strawberry.type
class Change:
    """A reversible step: revert it with `revertChange(changeId)`."""

    row: strawberry.Private[Row]

    @strawberry.field
    def change_id(self) -> strawberry.ID:
        return strawberry.ID(self.row["change_id"])

    @strawberry.field
    def kind(self) -> ChangeKind:
        return ChangeKind(self.row["kind"])

    @strawberry.field(description="The adjustment, reallocation or guardrail change concerned.")
    def subject_id(self) -> strawberry.ID:
        return strawberry.ID(self.row["subject_id"])

    @strawberry.field(description="The original change this chain of reverts started from.")
    def root_change_id(self) -> strawberry.ID:
        return strawberry.ID(self.row["root_id"])

    @strawberry.field
    def version(self) -> int:
        return int(self.row["version"])

    @strawberry.field
    def reverts_change_id(self) -> strawberry.ID | None:
        value = self.row["reverts"]
        return None if value is None else strawberry.ID(value)

    @strawberry.field
    def reverted_by_change_id(self) -> strawberry.ID | None:
        value = self.row["reverted_by"]
        return None if value is None else strawberry.ID(value)

    @strawberry.field(description="True while this change is the newest of its chain.")
    def in_effect(self) -> bool:
        return self.row["reverted_by"] is None


@strawberry.type
class Agreement(Node):
    row: strawberry.Private[Row]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("Agreement", self.row["agreement_id"]))

    @strawberry.field(description="The bare UUID, for systems that store it.")
    def agreement_id(self) -> str:
        return str(self.row["agreement_id"])

    @strawberry.field
    def employee_id(self) -> str:
        return str(self.row["employee_id"])

    @strawberry.field
    async def employee(self, info: Info[Context, None]) -> Person | None:
        row = await info.context.visible_person(self.row["employee_id"])
        return None if row is None else Person(row=row)

    @strawberry.field(description="The manager who approved it (from the directory then).")
    def approved_by_manager_id(self) -> str | None:
        return self.row["approved_by_manager_id"]  # type: ignore[no-any-return]

    @strawberry.field
    def status(self) -> AgreementStatus:
        return AgreementStatus(self.row["status"])

    @strawberry.field
    def title(self) -> str:
        return str(self.row["title"])

    @strawberry.field
    def career_goal(self) -> CareerGoal:
        r = self.row
        return CareerGoal(
            target_role=r["target_role"], skills=list(r["skills"]), target_date=r["target_date"]
        )

    @strawberry.field
    def guardrails(self) -> Guardrails | None:
        return Guardrails.from_json(self.row["guardrails"])

    @strawberry.field(description="Sum of ACTIVE adjustments' hours per week.")
    def development_hours_per_week(self) -> float:
        return float(self.row["development_hours"])

    @strawberry.field
    def next_review_on(self) -> date | None:
        return self.row["next_review_on"]  # type: ignore[no-any-return]

    @strawberry.field
    def version(self) -> int:
        return int(self.row["version"])

    @strawberry.field
    def created_at(self) -> datetime:
        return utc(self.row["created_at"])  # type: ignore[return-value]

    @strawberry.field
    def updated_at(self) -> datetime:
        return utc(self.row["updated_at"])  # type: ignore[return-value]

    async def _children(self, info: Info[Context, None], kind: str) -> list[Row]:
        embedded = self.row.get("_children")
        if embedded is not None:  # the write model's agreement (api.graphql.views)
            built: list[Row] = embedded[kind]()
            return built
        return await info.context.children(kind).load(self.row["agreement_id"])

    @strawberry.field
    async def adjustments(self, info: Info[Context, None]) -> list[Adjustment]:
        return [Adjustment(row=r) for r in await self._children(info, "adjustments")]

    @strawberry.field
    async def reallocations(self, info: Info[Context, None]) -> list[Reallocation]:
        return [Reallocation(row=r) for r in await self._children(info, "reallocations")]

    @strawberry.field
    async def reviews(self, info: Info[Context, None]) -> list[Review]:
        return [Review(row=r) for r in await self._children(info, "reviews")]

    @strawberry.field
    async def latest_review(self, info: Info[Context, None]) -> Review | None:
        reviews = await self._children(info, "reviews")
        return Review(row=reviews[-1]) if reviews else None

    @strawberry.field
    async def artifacts(self, info: Info[Context, None]) -> list[Artifact]:
        return [Artifact(row=r) for r in await self._children(info, "artifacts")]

    @strawberry.field
    async def changes(self, info: Info[Context, None]) -> list[Change]:
        return [Change(row=r) for r in await self._children(info, "changes")]


from api.graphql.people_types import Person  # noqa: E402  (mutual reference)
