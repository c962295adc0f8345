"""The directory mutation: HR or an integration pushes people."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.commands import UserError, execute, user_errors
from api.graphql.context import Context
from api.graphql.people.inputs import UpsertPeopleInput
from api.graphql.people.types import Person
from api.graphql.rows import shown_as
from domain.errors import DomainError
from projections.rows import person_row

Ctx = Info[Context, None]


@strawberry.type
class UpsertPeoplePayload:
    people: list[Person]
    position: int | None
    replayed: bool
    user_errors: list[UserError]


async def upsert_people(info: Ctx, input: UpsertPeopleInput) -> UpsertPeoplePayload:
    """HR or an integration pushes people into the directory."""
    try:
        result = await execute(info.context, input.command())
    except DomainError as error:
        return UpsertPeoplePayload(
            people=[], position=None, replayed=False, user_errors=user_errors(error)
        )
    return UpsertPeoplePayload(
        # The write model's people, in the read row's shape (the read model may lag).
        people=[shown_as(Person, person_row(p)) for p in result.people],
        position=result.position,
        replayed=result.replayed,
        user_errors=[],
    )
