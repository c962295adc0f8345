"""People, the caller, team workload and career evidence."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.enums import Role
from api.graphql.ids import global_id
from api.graphql.node import Node
from api.graphql.rows import Row, is_row_of, shown_as


def _person_global_id(root: Row) -> strawberry.ID:
    return strawberry.ID(global_id("Person", root["person_id"]))


async def _manager(root: Row, info: Info[Context, None]) -> Person | None:
    manager_id = root["manager_id"]
    row = None if manager_id is None else await info.context.visible_person(manager_id)
    return None if row is None else shown_as(Person, row)


@strawberry.type
class Person(Node):
    is_type_of = is_row_of("person_id", "display_name")

    id: strawberry.ID = strawberry.field(resolver=_person_global_id)
    person_id: str = strawberry.field(description="The HRIS employee id.")
    display_name: str
    email: str
    manager_id: str | None
    manager: Person | None = strawberry.field(resolver=_manager)
    team_id: str | None
    contracted_hours_per_week: float
    active: bool
    legal_hold: bool = strawberry.field(
        description="HR placed a legal hold: the person cannot be erased until it is lifted."
    )
    erased: bool = strawberry.field(
        description='Their personal data was erased: it reads as "[erased]" everywhere.'
    )
    updated_at: datetime


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
