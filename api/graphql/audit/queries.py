"""The audit queries: the audit log and the change feed."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.graphql.audit.types import AuditEvent, AuditEventConnection, AuditEventEdge
from api.graphql.context import Context
from api.graphql.enums import AuditOrder
from api.graphql.errors import BadInputError, ForbiddenError
from api.graphql.ids import agreement_uuid, cursor, parse_cursor, person_filter
from api.graphql.paging import MAX_FIRST, consistent, page, page_size
from api.graphql.rows import Row, shown_as
from domain.access import sees_all
from projections import queries as q

Ctx = Info[Context, None]
MAX_TYPES = 50  # event types in an auditLog filter (there are fewer than 50)


@strawberry.input
class AuditLogFilter:
    agreement_id: strawberry.ID | None = None
    actor_id: str | None = None
    types: list[str] | None = None
    from_: datetime | None = strawberry.field(name="from", default=None)
    to: datetime | None = None


def _events(rows: list[Row], first: int, kind: str) -> AuditEventConnection:
    edges, info = page(
        rows, first, lambda r: cursor(kind, int(r["position"])), lambda r: shown_as(AuditEvent, r)
    )
    return AuditEventConnection(
        edges=[AuditEventEdge(cursor=c, node=n) for c, n in edges], page_info=info
    )


async def audit_log(
    info: Ctx,
    first: int = 20,
    after: str | None = None,
    filter: AuditLogFilter | None = None,
    order: AuditOrder = AuditOrder.NEWEST_FIRST,
    consistent_with: int | None = None,
) -> AuditEventConnection:
    """Recorded events with their metadata, filtered, newest or oldest first."""
    ctx = info.context
    if not sees_all(ctx.actor):
        raise ForbiddenError("The audit log needs HR, AUDITOR or INTEGRATION.")
    size, position = page_size(first), parse_cursor("audit", after)
    f = filter or AuditLogFilter()
    if len(f.types or ()) > MAX_TYPES:
        raise BadInputError(f"List at most {MAX_TYPES} event types.", field="filter.types")
    agreement = str(agreement_uuid(f.agreement_id, "agreementId")) if f.agreement_id else None
    where = q.AuditFilter(
        agreement_id=agreement,
        actor_id=person_filter(f.actor_id, "filter.actorId"),
        types=tuple(f.types or ()),
        recorded_from=f.from_,
        recorded_to=f.to,
    )
    await consistent(ctx, consistent_with)
    newest = order is AuditOrder.NEWEST_FIRST
    rows = await ctx.read(lambda c, rm: q.audit_log(c, rm, where, size, position, newest))
    return _events(rows, size, "audit")


async def changes(
    info: Ctx,
    after: str | None = None,
    first: int = MAX_FIRST,
    consistent_with: int | None = None,
) -> AuditEventConnection:
    """Every event exactly once, in commit order, from a cursor."""
    ctx = info.context
    if not sees_all(ctx.actor):
        raise ForbiddenError("The change feed needs HR, AUDITOR or INTEGRATION.")
    await consistent(ctx, consistent_with)
    size, position = page_size(first), parse_cursor("changes", after)
    rows = await ctx.read(lambda c, rm: q.change_feed(c, rm, position, size))
    found = _events(rows, size, "changes")
    if found.page_info.end_cursor is None:
        # Caught up: hand back the cursor to resume from, never null (a client
        # looping on `after = endCursor` would otherwise start over).
        found.page_info.end_cursor = after
    return found
