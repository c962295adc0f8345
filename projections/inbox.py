"""A manager's inbox: what awaits them on their reports' agreements, in a fixed
number of queries however many reports they have (each list is one indexed select,
bounded; the names shown are one more)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any, cast

from sqlalchemy import BindParameter, Connection, Select, bindparam, func, select
from sqlalchemy.sql.visitors import replacement_traverse

from domain.agreement.lifecycle import REVIEWS_DUE_IN
from projections import queries as q
from projections.tables import ReadModel

LISTED = ("agreement_id", "title", "employee_id", "status", "next_review_on", "updated_at")
SHOWN_FIELDS = {
    "awaiting": LISTED,
    "changes_requested": LISTED,
    "reviews_due": LISTED,
    "activity": (
        "agreement_id",
        "title",
        "employee_id",
        "actor_id",
        "type",
        "reason",
        "recorded_at",
        "position",
    ),
}


def reviews_due(manager_id: str | None, before: date) -> q.AgreementCriteria:
    """Active agreements whose next review is on or before `before` (of `manager_id`'s
    reports, when given), soonest — so most overdue — first. GraphQL's `reviewsDue`
    asks for the same."""
    return q.AgreementCriteria(status=str(REVIEWS_DUE_IN), manager_id=manager_id, due_before=before)


def inbox(
    conn: Connection,
    rm: ReadModel,
    viewer: q.ReadScope,
    manager_id: str | None,
    due_before: date,
    shown: int,
) -> dict[str, Any]:
    """Proposals awaiting a decision, changes requested, reviews due and the recent
    activity on the agreements of `manager_id`'s reports (everyone's when None, for
    HR), within what `viewer` may read. Each list holds up to `shown` + 1 rows (the
    extra one tells there are more); `names` has the display name of everyone shown."""

    def listed(where: q.AgreementCriteria) -> list[dict[str, Any]]:
        return q.list_agreements(conn, rm, viewer, where, shown, None, LISTED)

    found: dict[str, Any] = {
        "awaiting": listed(q.AgreementCriteria(status="PROPOSED", manager_id=manager_id)),
        "changes_requested": listed(
            q.AgreementCriteria(status="CHANGES_REQUESTED", manager_id=manager_id)
        ),
        "reviews_due": listed(reviews_due(manager_id, due_before)),
        "activity": q.recent_activity(
            conn, rm, viewer, manager_id, shown, SHOWN_FIELDS["activity"]
        ),
    }
    # Only what the inbox shows is read (the columns selected in SQL): every sealed
    # value returned is opened (decrypted), and the rows' other texts and the events'
    # payloads would be most of that work.
    people = {r["employee_id"] for rows in found.values() for r in rows}
    people |= {r["actor_id"] for r in found["activity"]}
    named = q.people_by_id(conn, rm, people, q.NAMED)
    found["names"] = {pid: row["display_name"] for pid, row in named.items()}
    return found


# The header's count on every signed-in page: its statement built once per kind of
# viewer and read-model generation (building it and its cache key were a twentieth of an
# agreement page's CPU), the values named parameters. Bounded.
_WAITING: dict[tuple[Any, ...], Select[Any]] = {}
WAITING_KEPT = 256


def waiting(
    conn: Connection,
    rm: ReadModel,
    viewer: q.ReadScope,
    manager_id: str | None,
    due_before: date,
    cap: int,
) -> int:
    """How many proposals await a decision and reviews are due (of `manager_id`'s
    reports; everyone's when None), counted up to `cap`: the navigation's count. Only
    ids are read (nothing sealed is opened)."""
    lists = (
        q.AgreementCriteria(status="PROPOSED", manager_id=manager_id),
        reviews_due(manager_id, due_before),
    )
    pages = [q.agreements_page(rm, viewer, where, cap, None) for where in lists]
    # Each list's parameters under names of its own (both lists name their status
    # "status"): the two counts go as one statement.
    params = {f"{_prefix(i)}{k}": v for i, (_, p) in enumerate(pages) for k, v in p.items()}
    # The SQL depends only on the viewer's kind and which filters are set
    # (`agreements_page`): those name the statement.
    key = (rm.agreements, viewer.sees_all, viewer.is_manager, *sorted(params))
    statement = _WAITING.get(key)
    if statement is None:
        counts = []
        for i, (query, _) in enumerate(pages):
            ids = query.with_only_columns(rm.agreements.c.agreement_id)
            renamed = partial(_renamed_bind, _prefix(i))
            unique = cast(Select[Any], replacement_traverse(ids, {}, renamed))
            counts.append(select(func.count()).select_from(unique.subquery()).scalar_subquery())
        statement = select(*counts)
        if len(_WAITING) >= WAITING_KEPT:
            _WAITING.clear()
        _WAITING[key] = statement
    # Each count bounded as its list is (LIMIT `cap` + 1): one round trip, not two.
    total = conn.execute(statement, params).one()
    return min(sum(total), cap)


def _prefix(index: int) -> str:
    return f"waiting{index}_"


def _renamed_bind(prefix: str, element: Any) -> Any:
    """A named parameter under a name of its own (`prefix` + its name)."""
    if isinstance(element, BindParameter):
        return bindparam(prefix + element.key, type_=element.type)
    return None
