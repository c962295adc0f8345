"""The insights query: HR and auditors read every released table, managers their
teams' released rows (domain.access.insights_reach)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from strawberry.types import Info

from api.graphql.agreements.types import Agreement
from api.graphql.context import Context
from api.graphql.errors import ForbiddenError, NotFoundError
from api.graphql.ids import person_key
from api.graphql.insights.types import CareerStep, Insights, insights
from api.graphql.paging import consistent
from api.graphql.rows import shown_as
from domain.access import READ_EVIDENCE, READ_INSIGHTS, can_read_evidence, insights_reach
from domain.agreement.outcomes import OutcomeKind
from projections.insights import path

Ctx = Info[Context, None]


async def read_insights(info: Ctx, consistent_with: int | None = None) -> Insights:
    """Aggregate figures with a minimum group size (CRAFTING_INSIGHTS_MIN_GROUP)."""
    ctx = info.context
    reach = insights_reach(ctx.actor)
    if reach is None:
        raise ForbiddenError(READ_INSIGHTS)
    await consistent(ctx, consistent_with)
    released = await asyncio.to_thread(
        ctx.ports.reads.insights, ctx.actor.id, reach, datetime.now(UTC), consistent_with
    )
    return insights(released)


async def career_path(
    info: Ctx, person_id: str, consistent_with: int | None = None
) -> list[CareerStep]:
    """A person's agreements, oldest first: goal, outcome, time taken, hours invested.
    Readable by whoever reads their career evidence."""
    ctx = info.context
    await consistent(ctx, consistent_with)
    key = person_key(person_id, "personId")
    person = await ctx.visible_person(key)
    if person is None:
        raise NotFoundError("No person with this id.", field="personId")
    if not can_read_evidence(ctx.actor, key, person["manager_id"]):
        raise ForbiddenError(READ_EVIDENCE)
    rows = await ctx.read(lambda c, rm: path.path_rows(c, rm, ctx.scope, key))
    now = datetime.now(UTC)
    steps = []
    for row in rows:
        found = path.step(row, now)
        outcome = found.pop("outcome")
        steps.append(
            CareerStep(
                agreement=shown_as(Agreement, row),
                outcome=None if outcome is None else OutcomeKind(str(outcome)),
                **found,  # type: ignore[arg-type]
            )
        )
    return steps
