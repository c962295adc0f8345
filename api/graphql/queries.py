"""The Query type: every query SPEC section 4 names."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from api.graphql.agreement_types import Agreement, Artifact, Review
from api.graphql.audit_types import (
    AgreementConnection,
    AgreementEdge,
    AuditEvent,
    AuditEventConnection,
    AuditEventEdge,
    PageInfo,
)
from api.graphql.context import Context
from api.graphql.enums import AgreementStatus, AuditOrder
from api.graphql.errors import BadInputError, ForbiddenError, NotFoundError
from api.graphql.ids import (
    agreement_uuid,
    cursor,
    due_cursor,
    parse_cursor,
    parse_due_cursor,
    parse_global_id,
    person_key,
)
from api.graphql.integrity import IntegrityReport, verify_integrity
from api.graphql.node import Node
from api.graphql.people_types import (
    Person,
    SkillEvidence,
    TeamWorkload,
    Viewer,
    WorkloadMember,
)
from api.graphql.rows import shown_as
from domain.access import READ_AGREEMENT, sees_all
from domain.errors import DomainError, Forbidden
from domain.values import Role
from projections import queries as q
from projections.rows import agreement_row

Ctx = Info[Context, None]
Row = dict[str, Any]
T = TypeVar("T")
MAX_FIRST = 100
WORKLOAD = "A team's workload needs a manager of its members, HR, AUDITOR or INTEGRATION."
MAX_TYPES = 50  # event types in an auditLog filter (there are fewer than 50)


@strawberry.input
class AgreementFilter:
    status: AgreementStatus | None = None
    employee_id: str | None = None
    manager_id: str | None = None
    team_id: str | None = None
    updated_since: datetime | None = None


@strawberry.input
class AuditLogFilter:
    agreement_id: strawberry.ID | None = None
    actor_id: str | None = None
    types: list[str] | None = None
    from_: datetime | None = strawberry.field(name="from", default=None)
    to: datetime | None = None


@strawberry.type
class CareerEvidence:
    person: Person
    agreements: list[Agreement]
    artifacts: list[Artifact]
    skills: list[SkillEvidence]
    reviews: list[Review]


def _first(first: int) -> int:
    if not 0 <= first <= MAX_FIRST:
        raise BadInputError(f"first must be between 0 and {MAX_FIRST}.", field="first")
    return first


def agreements_arguments(
    first: int, after: str | None, filter: AgreementFilter | None
) -> tuple[int, int | None, q.AgreementFilter]:
    """`agreements`' arguments checked: page size, cursor position, filter (the
    compiled reads check them through here too)."""
    size, position = _first(first), parse_cursor("agreements", after)
    f = filter or AgreementFilter()
    where = q.AgreementFilter(
        status=f.status.value if f.status else None,
        employee_id=f.employee_id,
        manager_id=f.manager_id,
        team_id=f.team_id,
        updated_since=f.updated_since,
    )
    return size, position, where


def reviews_due_arguments(
    ctx: Context, before: date, manager_id: str | None, first: int, after: str | None
) -> tuple[int, q.DueKey | None, q.AgreementFilter]:
    """`reviewsDue`' arguments checked: a manager sees only their own reports'."""
    if not ctx.viewer.sees_all:
        if not ctx.actor.has(Role.MANAGER) or manager_id not in (None, ctx.actor.id):
            raise ForbiddenError(
                "Reviews due need a MANAGER (for their own reports), HR, AUDITOR or INTEGRATION."
            )
        manager_id = ctx.actor.id
    size, resume = _first(first), parse_due_cursor(after)
    where = q.AgreementFilter(status="ACTIVE", manager_id=manager_id, due_before=before)
    return size, resume, where


async def _consistent(ctx: Context, position: int | None) -> None:
    """Wait (bounded) until the read models include `position` (read-your-writes)."""
    if position is not None:
        await ctx.consistency.wait(ctx.actor.id, position)


def _page(
    rows: list[Row], first: int, cursor_of: Callable[[Row], str], wrap: Callable[[Row], T]
) -> tuple[list[tuple[str, T]], PageInfo]:
    has_next = len(rows) > first
    edges = [(cursor_of(r), wrap(r)) for r in rows[:first]]
    info = PageInfo(
        has_next_page=has_next,
        has_previous_page=False,
        start_cursor=edges[0][0] if edges else None,
        end_cursor=edges[-1][0] if edges else None,
    )
    return edges, info


def _agreements(rows: list[Row], first: int, by_due: bool = False) -> AgreementConnection:
    def cursor_of(r: Row) -> str:
        if by_due:
            return due_cursor(r["next_review_on"], int(r["created_position"]))
        return cursor("agreements", int(r["created_position"]))

    edges, info = _page(rows, first, cursor_of, lambda r: shown_as(Agreement, r))
    return AgreementConnection(
        edges=[AgreementEdge(cursor=c, node=n) for c, n in edges], page_info=info
    )


def _events(rows: list[Row], first: int, kind: str) -> AuditEventConnection:
    edges, info = _page(
        rows, first, lambda r: cursor(kind, int(r["position"])), lambda r: shown_as(AuditEvent, r)
    )
    return AuditEventConnection(
        edges=[AuditEventEdge(cursor=c, node=n) for c, n in edges], page_info=info
    )


async def _agreement(ctx: Context, id_: str, consistent_with: int | None) -> Agreement | None:
    key = str(agreement_uuid(id_))
    await _consistent(ctx, consistent_with)
    found = await ctx.read(lambda c, rm: q.agreements_by_id(c, rm, ctx.viewer, [key]))
    if key in found:
        return shown_as(Agreement, found[key])
    if ctx.viewer.sees_all:
        return None
    raise ForbiddenError(READ_AGREEMENT)


async def _person(ctx: Context, id_: str) -> Person | None:
    row = await ctx.visible_person(person_key(id_))
    return None if row is None else shown_as(Person, row)


@strawberry.type
class Query:
    @strawberry.field(description="Who the caller is.")
    def viewer(self, info: Ctx) -> Viewer:
        actor = info.context.actor
        return Viewer(id=actor.id, roles=sorted(actor.roles))

    @strawberry.field
    async def node(
        self, info: Ctx, id: strawberry.ID, consistent_with: int | None = None
    ) -> Node | None:
        type_name, _ = parse_global_id(id)
        if type_name == "Agreement":
            return await _agreement(info.context, id, consistent_with)
        if type_name == "Person":
            await _consistent(info.context, consistent_with)
            return await _person(info.context, id)
        raise BadInputError("Not a valid id.", field="id")

    @strawberry.field
    async def agreement(
        self, info: Ctx, id: strawberry.ID, consistent_with: int | None = None
    ) -> Agreement | None:
        return await _agreement(info.context, id, consistent_with)

    @strawberry.field
    async def person(
        self, info: Ctx, id: strawberry.ID, consistent_with: int | None = None
    ) -> Person | None:
        await _consistent(info.context, consistent_with)
        return await _person(info.context, id)

    @strawberry.field
    async def agreements(
        self,
        info: Ctx,
        first: int = 20,
        after: str | None = None,
        filter: AgreementFilter | None = None,
        consistent_with: int | None = None,
    ) -> AgreementConnection:
        ctx = info.context
        size, position, where = agreements_arguments(first, after, filter)
        await _consistent(ctx, consistent_with)
        rows = await ctx.read(
            lambda c, rm: q.list_agreements(c, rm, ctx.viewer, where, size, position)
        )
        return _agreements(rows, size)

    @strawberry.field(
        description="The agreement exactly as it was at a version or instant, "
        "computed from its events."
    )
    async def agreement_at(
        self, info: Ctx, id: strawberry.ID, version: int | None = None, at: datetime | None = None
    ) -> Agreement:
        ctx = info.context
        if version is None and at is None:
            raise BadInputError("Give a version, an instant (at), or both.", field="version")
        aid = agreement_uuid(id)
        commands = ctx.ports.commands
        try:
            past = await asyncio.to_thread(commands.agreement_at, ctx.actor, aid, version, at)
        except Forbidden as error:
            raise ForbiddenError(error.message) from None
        except DomainError as error:
            cls = NotFoundError if error.code == "NOT_FOUND" else BadInputError
            raise cls(error.message, field=error.field) from None
        return shown_as(Agreement, agreement_row(past))

    @strawberry.field
    async def audit_log(
        self,
        info: Ctx,
        first: int = 20,
        after: str | None = None,
        filter: AuditLogFilter | None = None,
        order: AuditOrder = AuditOrder.NEWEST_FIRST,
        consistent_with: int | None = None,
    ) -> AuditEventConnection:
        ctx = info.context
        if not sees_all(ctx.actor):
            raise ForbiddenError("The audit log needs HR, AUDITOR or INTEGRATION.")
        size, position = _first(first), parse_cursor("audit", after)
        f = filter or AuditLogFilter()
        if len(f.types or ()) > MAX_TYPES:
            raise BadInputError(f"List at most {MAX_TYPES} event types.", field="filter.types")
        agreement = str(agreement_uuid(f.agreement_id, "agreementId")) if f.agreement_id else None
        where = q.AuditFilter(
            agreement_id=agreement,
            actor_id=f.actor_id,
            types=tuple(f.types or ()),
            recorded_from=f.from_,
            recorded_to=f.to,
        )
        await _consistent(ctx, consistent_with)
        newest = order is AuditOrder.NEWEST_FIRST
        rows = await ctx.read(lambda c, rm: q.audit_log(c, rm, where, size, position, newest))
        return _events(rows, size, "audit")

    @strawberry.field(
        description="Every event exactly once, in commit order; resume from "
        "the last cursor you saw."
    )
    async def changes(
        self,
        info: Ctx,
        after: str | None = None,
        first: int = MAX_FIRST,
        consistent_with: int | None = None,
    ) -> AuditEventConnection:
        ctx = info.context
        if not sees_all(ctx.actor):
            raise ForbiddenError("The change feed needs HR, AUDITOR or INTEGRATION.")
        await _consistent(ctx, consistent_with)
        size, position = _first(first), parse_cursor("changes", after)
        rows = await ctx.read(lambda c, rm: q.change_feed(c, rm, position, size))
        page = _events(rows, size, "changes")
        if page.page_info.end_cursor is None:
            # Caught up: hand back the cursor to resume from, never null (a client
            # looping on `after = endCursor` would otherwise start over).
            page.page_info.end_cursor = after
        return page

    @strawberry.field
    async def team_workload(
        self, info: Ctx, team_id: str, consistent_with: int | None = None
    ) -> TeamWorkload:
        ctx = info.context
        if not (sees_all(ctx.actor) or ctx.actor.has(Role.MANAGER)):
            raise ForbiddenError(WORKLOAD)
        await _consistent(ctx, consistent_with)
        rows = await ctx.read(lambda c, rm: q.team_workload(c, rm, team_id))
        if not sees_all(ctx.actor):
            # A manager sees the members they manage (and themselves), no one else.
            me = ctx.actor.id
            rows = [r for r in rows if r["manager_id"] == me or r["person_id"] == me]
            if not any(r["manager_id"] == me for r in rows):
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
                    receiving_limit_reached=net >= limit,
                )
            )
        return TeamWorkload(team_id=team_id, receiving_limit_per_week=limit, members=members)

    @strawberry.field(
        description="Active agreements whose next review is due on or before `before`."
    )
    async def reviews_due(
        self,
        info: Ctx,
        before: date,
        manager_id: str | None = None,
        first: int = 20,
        after: str | None = None,
        consistent_with: int | None = None,
    ) -> AgreementConnection:
        ctx = info.context
        size, resume, where = reviews_due_arguments(ctx, before, manager_id, first, after)
        await _consistent(ctx, consistent_with)
        rows = await ctx.read(
            lambda c, rm: q.list_agreements(c, rm, ctx.viewer, where, size, resume)
        )
        return _agreements(rows, size, by_due=True)

    verify_integrity: IntegrityReport = strawberry.field(
        resolver=verify_integrity,
        description="An agreement's hash chain as stored, and the latest signed checkpoint.",
    )

    @strawberry.field
    async def career_evidence(
        self, info: Ctx, person_id: str, consistent_with: int | None = None
    ) -> CareerEvidence:
        ctx = info.context
        await _consistent(ctx, consistent_with)
        key = person_key(person_id)
        person = await ctx.visible_person(key)
        if person is None:
            raise NotFoundError("No person with this id.", field="personId")

        def read(c: Any, rm: Any) -> tuple[list[Row], dict[str, list[Row]], dict[str, list[Row]]]:
            rows = q.list_agreements(
                c, rm, ctx.viewer, q.AgreementFilter(employee_id=key), 10_000, None
            )
            ids = [r["agreement_id"] for r in rows]
            return rows, q.children(c, rm, "artifacts", ids), q.children(c, rm, "reviews", ids)

        rows, artifacts, reviews = await ctx.read(read)
        # Evidence only from the agreements this caller may read.
        skills = q.skill_evidence([a for r in rows for a in artifacts.get(r["agreement_id"], [])])
        return CareerEvidence(
            person=shown_as(Person, person),
            agreements=[shown_as(Agreement, r) for r in rows],
            artifacts=[
                shown_as(Artifact, a) for r in rows for a in artifacts.get(r["agreement_id"], [])
            ],
            skills=[
                SkillEvidence(skill=s["skill"], evidence_count=int(s["evidence_count"]))
                for s in skills
            ],
            reviews=[shown_as(Review, v) for r in rows for v in reviews.get(r["agreement_id"], [])],
        )
