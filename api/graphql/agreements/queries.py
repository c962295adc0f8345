"""The agreement queries: one agreement, the list, time travel, reviews due, and a
person's career evidence."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import strawberry
from strawberry.types import Info

from api.graphql.agreements.types import (
    Agreement,
    AgreementConnection,
    AgreementEdge,
    Artifact,
    CareerEvidence,
    Review,
    SkillEvidence,
)
from api.graphql.context import Context
from api.graphql.enums import AgreementStatus
from api.graphql.errors import BadInputError, ForbiddenError, NotFoundError
from api.graphql.ids import (
    agreement_uuid,
    cursor,
    due_cursor,
    parse_cursor,
    parse_due_cursor,
    person_filter,
    person_key,
)
from api.graphql.paging import consistent, page, page_size
from api.graphql.people.types import Person
from api.graphql.rows import Row, shown_as
from domain.access import READ_AGREEMENT, READ_EVIDENCE, can_read_evidence
from domain.errors import DomainError, Forbidden
from domain.values import Role
from projections import career, inbox
from projections import queries as q
from projections.rows import agreement_row

Ctx = Info[Context, None]


@strawberry.input
class AgreementFilter:
    status: AgreementStatus | None = None
    employee_id: str | None = None
    manager_id: str | None = None
    team_id: str | None = None
    updated_since: datetime | None = None


def agreements_arguments(
    first: int, after: str | None, filter: AgreementFilter | None
) -> tuple[int, int | None, q.AgreementCriteria]:
    """`agreements`' arguments checked: page size, cursor position, filter (the
    compiled reads check them through here too)."""
    size, position = page_size(first), parse_cursor("agreements", after)
    f = filter or AgreementFilter()
    where = q.AgreementCriteria(
        status=f.status.value if f.status else None,
        employee_id=person_filter(f.employee_id, "filter.employeeId"),
        manager_id=person_filter(f.manager_id, "filter.managerId"),
        team_id=f.team_id,
        updated_since=f.updated_since,
    )
    return size, position, where


def reviews_due_arguments(
    ctx: Context, before: date, manager_id: str | None, first: int, after: str | None
) -> tuple[int, q.DueKey | None, q.AgreementCriteria]:
    """`reviewsDue`' arguments checked: a manager sees only their own reports'."""
    if not ctx.scope.sees_all:
        if not ctx.actor.has(Role.MANAGER) or manager_id not in (None, ctx.actor.id):
            raise ForbiddenError(
                "Reviews due need a MANAGER (for their own reports), HR, AUDITOR or INTEGRATION."
            )
        manager_id = ctx.actor.id
    size, resume = page_size(first), parse_due_cursor(after)
    return size, resume, inbox.reviews_due(person_filter(manager_id, "managerId"), before)


def _connection(rows: list[Row], first: int, by_due: bool = False) -> AgreementConnection:
    def cursor_of(r: Row) -> str:
        if by_due:
            return due_cursor(r["next_review_on"], int(r["created_position"]))
        return cursor("agreements", int(r["created_position"]))

    edges, info = page(rows, first, cursor_of, lambda r: shown_as(Agreement, r))
    return AgreementConnection(
        edges=[AgreementEdge(cursor=c, node=n) for c, n in edges], page_info=info
    )


async def find_agreement(ctx: Context, id_: str, consistent_with: int | None) -> Agreement | None:
    """One agreement from the read model; FORBIDDEN (not null) when the caller may not read it."""
    key = str(agreement_uuid(id_))
    await consistent(ctx, consistent_with)
    found = await ctx.read(lambda c, rm: q.agreements_by_id(c, rm, ctx.scope, [key]))
    if key in found:
        return shown_as(Agreement, found[key])
    if ctx.scope.sees_all:
        return None
    raise ForbiddenError(READ_AGREEMENT)


async def agreement(
    info: Ctx, id: strawberry.ID, consistent_with: int | None = None
) -> Agreement | None:
    """One agreement by its global id."""
    return await find_agreement(info.context, id, consistent_with)


async def agreements(
    info: Ctx,
    first: int = 20,
    after: str | None = None,
    filter: AgreementFilter | None = None,
    consistent_with: int | None = None,
) -> AgreementConnection:
    """The agreements the caller may read, a page at a time, filtered."""
    ctx = info.context
    size, position, where = agreements_arguments(first, after, filter)
    await consistent(ctx, consistent_with)
    rows = await ctx.read(lambda c, rm: q.list_agreements(c, rm, ctx.scope, where, size, position))
    return _connection(rows, size)


async def agreement_at(
    info: Ctx, id: strawberry.ID, version: int | None = None, at: datetime | None = None
) -> Agreement:
    """The agreement as it was at a version or instant, from its events."""
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


async def reviews_due(
    info: Ctx,
    before: date,
    manager_id: str | None = None,
    first: int = 20,
    after: str | None = None,
    consistent_with: int | None = None,
) -> AgreementConnection:
    """Active agreements whose next review is due, soonest first."""
    ctx = info.context
    size, resume, where = reviews_due_arguments(ctx, before, manager_id, first, after)
    await consistent(ctx, consistent_with)
    rows = await ctx.read(lambda c, rm: q.list_agreements(c, rm, ctx.scope, where, size, resume))
    return _connection(rows, size, by_due=True)


async def career_evidence(
    info: Ctx, person_id: str, consistent_with: int | None = None
) -> CareerEvidence:
    """A person's agreements, artifacts, reviews and the skills they evidence."""
    ctx = info.context
    await consistent(ctx, consistent_with)
    key = person_key(person_id, "personId")
    person = await ctx.visible_person(key)
    if person is None:
        raise NotFoundError("No person with this id.", field="personId")
    if not can_read_evidence(ctx.actor, key, person["manager_id"]):
        raise ForbiddenError(READ_EVIDENCE)
    rows = await ctx.read(lambda c, rm: career.career_rows(c, rm, ctx.scope, key))
    found = career.career_evidence(rows)
    return CareerEvidence(
        person=shown_as(Person, person),
        agreements=[shown_as(Agreement, r) for r in found.agreements],
        artifacts=[shown_as(Artifact, a) for a in found.artifacts],
        skills=[
            SkillEvidence(skill=s["skill"], evidence_count=int(s["evidence_count"]))
            for s in found.skills
        ],
        reviews=[shown_as(Review, v) for v in found.reviews],
    )
