"""The people queries: the caller, one person, and a team's workload."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import ForbiddenError
from api.graphql.ids import person_key
from api.graphql.paging import consistent
from api.graphql.people.types import Person, TeamWorkload, Viewer, WorkloadMember
from api.graphql.rows import shown_as
from domain.ledger import limit_reached
from projections import workload

Ctx = Info[Context, None]
WORKLOAD = "A team's workload needs a manager of its members, HR, AUDITOR or INTEGRATION."


async def find_person(ctx: Context, id_: str) -> Person | None:
    """A person the caller may read, or None; FORBIDDEN for anyone else."""
    row = await ctx.visible_person(person_key(id_))
    return None if row is None else shown_as(Person, row)


def viewer(info: Ctx) -> Viewer:
    """Who the caller is."""
    actor = info.context.actor
    return Viewer(id=actor.id, roles=sorted(actor.roles))


async def person(info: Ctx, id: strawberry.ID, consistent_with: int | None = None) -> Person | None:
    """One person by global id."""
    await consistent(info.context, consistent_with)
    return await find_person(info.context, id)


async def team_workload(
    info: Ctx, team_id: str, consistent_with: int | None = None
) -> TeamWorkload:
    """A team's hours: development, given and received against the limit."""
    ctx = info.context
    if not workload.may_see_workloads(ctx.scope):
        raise ForbiddenError(WORKLOAD)
    await consistent(ctx, consistent_with)
    rows = await ctx.read(lambda c, rm: workload.team_members(c, rm, ctx.scope, team_id))
    if rows is None:
        raise ForbiddenError(WORKLOAD)
    limit = ctx.ports.reads.receiving_limit_per_week
    members = []
    for r in rows:
        net = float(r["hours_received"]) - float(r["hours_given"])
        members.append(
            WorkloadMember(
                person_id=r["person_id"],
                display_name=r["display_name"],
                contracted_hours_per_week=float(r["contracted_hours_per_week"]),
                development_hours_per_week=float(r["development_hours"]),
                hours_received_per_week=float(r["hours_received"]),
                hours_given_per_week=float(r["hours_given"]),
                net_hours_received_per_week=net,
                receiving_limit_reached=limit_reached(net, limit),
            )
        )
    return TeamWorkload(team_id=team_id, receiving_limit_per_week=limit, members=members)
