"""People, the caller, team workload and career evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.enums import Role
from api.graphql.ids import global_id
from api.graphql.node import Node
from api.graphql.scalars import utc

Row = dict[str, Any]


@strawberry.type
class Person(Node):
    row: strawberry.Private[Row]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("Person", self.row["person_id"]))

    @strawberry.field(description="The HRIS employee id.")
    def person_id(self) -> str:
        return str(self.row["person_id"])

    @strawberry.field
    def display_name(self) -> str:
        return str(self.row["display_name"])

    @strawberry.field
    def email(self) -> str:
        return str(self.row["email"])

    @strawberry.field
    def manager_id(self) -> str | None:
        return self.row["manager_id"]  # type: ignore[no-any-return]

    @strawberry.field
    async def manager(self, info: Info[Context, None]) -> Person | None:
        manager_id = self.row["manager_id"]
        if manager_id is None:
            return None
        row = await info.context.visible_person(manager_id)
        return None if row is None else Person(row=row)

    @strawberry.field
    def team_id(self) -> str | None:
        return self.row["team_id"]  # type: ignore[no-any-return]

    @strawberry.field
    def contracted_hours_per_week(self) -> float:
        return float(self.row["contracted_hours_per_week"])

    @strawberry.field
    def active(self) -> bool:
        return bool(self.row["active"])

    @strawberry.field
    def updated_at(self) -> datetime:
        return utc(self.row["updated_at"])  # type: ignore[return-value]


@strawberry.type
class Viewer:
    id: str
    roles: list[Role]


@strawberry.type
class WorkloadMember:
    person_id: str
    display_name: str
    contracted_hours_per_week: float
    development_hours_per_week: float
    hours_received_per_week: float
    hours_given_per_week: float
    net_hours_received_per_week: float
    receiving_limit_reached: bool


@strawberry.type
class TeamWorkload:
    team_id: str
    receiving_limit_per_week: float
    members: list[WorkloadMember]


@strawberry.type
class SkillEvidence:
    skill: str
    evidence_count: int
