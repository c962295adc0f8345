"""The insights query: HR and auditors read every released table, managers their
teams' released rows (domain.access.insights_reach)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import ForbiddenError
from api.graphql.insights.types import Insights, insights
from api.graphql.paging import consistent
from domain.access import READ_INSIGHTS, insights_reach

Ctx = Info[Context, None]


async def read_insights(info: Ctx, consistent_with: int | None = None) -> Insights:
    """Aggregate figures with a minimum group size (CRAFTING_INSIGHTS_MIN_GROUP)."""
    ctx = info.context
    reach = insights_reach(ctx.actor)
    if reach is None:
        raise ForbiddenError(READ_INSIGHTS)
    await consistent(ctx, consistent_with)
    released = await asyncio.to_thread(
        ctx.ports.reads.insights, ctx.actor.id, reach, datetime.now(UTC)
    )
    return insights(released)
