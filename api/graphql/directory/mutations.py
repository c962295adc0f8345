"""HR's decision on a held deactivation wave: confirm (apply) or dismiss (keep active)."""

from __future__ import annotations

from strawberry.types import Info

from api.graphql.commands import execute, user_errors
from api.graphql.context import Context
from api.graphql.directory.inputs import DeactivationWaveInput
from api.graphql.directory.types import DeactivationWavePayload
from api.graphql.people.types import Person
from api.graphql.rows import shown_as
from domain.application import commands as c
from domain.errors import DomainError
from projections.rows import person_row

Ctx = Info[Context, None]


async def _decide(ctx: Context, command: c.Command) -> DeactivationWavePayload:
    try:
        result = await execute(ctx, command)
    except DomainError as error:
        return DeactivationWavePayload(
            people=[], position=None, replayed=False, user_errors=user_errors(error)
        )
    return DeactivationWavePayload(
        people=[shown_as(Person, person_row(p)) for p in result.people],
        position=result.position,
        replayed=result.replayed,
        user_errors=[],
    )


async def confirm_deactivations(
    info: Ctx, input: DeactivationWaveInput | None = None
) -> DeactivationWavePayload:
    """HR applies the held deactivation wave."""
    return await _decide(info.context, (input or DeactivationWaveInput()).confirm())


async def dismiss_deactivations(
    info: Ctx, input: DeactivationWaveInput | None = None
) -> DeactivationWavePayload:
    """HR drops the held deactivation wave: its people stay active."""
    return await _decide(info.context, (input or DeactivationWaveInput()).dismiss())
