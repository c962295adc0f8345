"""The directory mutation: HR or an integration pushes people."""

from __future__ import annotations

import asyncio
from uuid import UUID

import strawberry
from strawberry.types import Info

from api.graphql.commands import UserError, command_from, execute, user_errors
from api.graphql.context import Context
from api.graphql.people.inputs import ErasePersonInput, LegalHoldInput, UpsertPeopleInput
from api.graphql.people.types import Person
from api.graphql.rows import shown_as
from domain.application import commands as c
from domain.errors import DomainError
from domain.person import Person as PersonModel
from projections import queries as q
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


@strawberry.type
class PersonActionPayload:
    person: Person | None
    position: int | None
    user_errors: list[UserError]


@strawberry.type
class ErasePersonPayload:
    person: Person | None
    position: int | None
    events_in_clear: int | None = strawberry.field(
        description="Events of theirs recorded before personal data was sealed: erasure "
        "masks them everywhere, but cannot remove them from the store."
    )
    user_errors: list[UserError]


async def erase_person(info: Ctx, input: ErasePersonInput) -> ErasePersonPayload:
    """HR erases a person: recorded, and their data key destroyed in one transaction."""
    ctx = info.context
    try:
        result = await execute(ctx, command_from(input, c.ErasePerson))
    except DomainError as error:
        return ErasePersonPayload(
            person=None, position=None, events_in_clear=None, user_errors=user_errors(error)
        )
    ids = await ctx.read(lambda conn, rm: q.agreement_ids_of(conn, rm, input.person_id))
    in_clear = await asyncio.to_thread(
        ctx.ports.commands.events_in_clear, input.person_id, [UUID(i) for i in ids]
    )
    return ErasePersonPayload(
        person=_shown(result.people),
        position=result.position,
        events_in_clear=in_clear,
        user_errors=[],
    )


async def place_legal_hold(info: Ctx, input: LegalHoldInput) -> PersonActionPayload:
    """HR keeps a person's data: erasure is refused until the hold is lifted."""
    return await _person_action(info, command_from(input, c.PlaceLegalHold))


async def lift_legal_hold(info: Ctx, input: LegalHoldInput) -> PersonActionPayload:
    """HR lifts a legal hold."""
    return await _person_action(info, command_from(input, c.LiftLegalHold))


async def _person_action(info: Ctx, command: c.PersonCommand) -> PersonActionPayload:
    try:
        result = await execute(info.context, command)
    except DomainError as error:
        return PersonActionPayload(person=None, position=None, user_errors=user_errors(error))
    return PersonActionPayload(
        person=_shown(result.people), position=result.position, user_errors=[]
    )


def _shown(people: tuple[PersonModel, ...]) -> Person | None:
    return shown_as(Person, person_row(people[0])) if people else None
