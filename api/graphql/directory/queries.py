"""The held deactivation wave (the mass-deactivation guard's report)."""

from __future__ import annotations

import asyncio

from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.directory.types import HeldDeactivation
from api.graphql.errors import ForbiddenError
from api.graphql.ids import global_id
from api.graphql.people.queries import find_person
from domain.access import sees_all

Ctx = Info[Context, None]
READ_HELD = "Held deactivations are for HR, AUDITOR or INTEGRATION."


async def held_deactivations(info: Ctx) -> list[HeldDeactivation]:
    """Deactivations held by the guard, oldest first, until HR confirms or dismisses."""
    ctx = info.context
    if not sees_all(ctx.actor):
        raise ForbiddenError(READ_HELD)
    held = await asyncio.to_thread(ctx.ports.commands.held_deactivations)
    return [
        HeldDeactivation(
            person_id=pid, held_at=at, person=await find_person(ctx, global_id("Person", pid))
        )
        for pid, at in held
    ]
