"""Read queries: plain selects over the read tables, never a replay of events.

Every list is keyset-paginated on a column that never changes for a row (a log
position), so paging stays correct while rows are inserted and updated. The
caller's visibility is part of the SQL, so a page never needs filtering afterwards.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.sql import ColumnElement

from projections.rows import Row
from projections.tables import PROJECTION_NAME, ReadModel, projection_state, read_model

CHUNK = 500


@dataclass(frozen=True)
class ReadScope:
    """What the caller may read: everything, or their own and (for managers) their
    direct reports' agreements as the directory says now."""

    person_id: str
    sees_all: bool
    is_manager: bool


@dataclass(frozen=True)
class AgreementCriteria:
    status: str | None = None
    employee_id: str | None = None
    # The employee by name: the hashed words of the name typed (projections.name_index);
    # with employee_id too, an agreement of either is found.
    employee_tokens: tuple[str, ...] = ()
    manager_id: str | None = None
    team_id: str | None = None
    updated_since: datetime | None = None
    due_before: date | None = None  # next review on or before (reviews due)


@dataclass(frozen=True)
class AuditFilter:
    agreement_id: str | None = None
    actor_id: str | None = None
    # The actor by name (hashed words, projections.name_index); with actor_id, either.
    actor_tokens: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None


def live_read_model(conn: Connection) -> ReadModel:
    """The generation of tables currently serving."""
    return read_model(conn.execute(live_generation()).scalar_one())


def live_generation() -> Select[Any]:
    """The number of the generation of tables currently serving (a statement may read
    it beside what it reads: `api.ports.Sessions.check`)."""
    return select(projection_state.c.generation).where(projection_state.c.name == PROJECTION_NAME)


def _visible(rm: ReadModel, viewer: ReadScope) -> ColumnElement[bool] | None:
    if viewer.sees_all:
        return None
    own = rm.agreements.c.employee_id == bindparam("viewer_id")
    if not viewer.is_manager:
        return own
    reports = select(rm.people.c.person_id).where(rm.people.c.manager_id == bindparam("viewer_id"))
    return or_(own, rm.agreements.c.employee_id.in_(reports))


def _rows(conn: Connection, query: Select[Any], params: dict[str, Any] | None = None) -> list[Row]:
    # zip with the names once: a dict made from each RowMapping costs 2.5x as much (the
    # agreement page reads 500 people for its receiver list on every request).
    result = conn.execute(query, params or {})
    names = list(result.keys())
    return [dict(zip(names, r, strict=True)) for r in result]


# The statements every page runs, built once per read-model table and shape, their values
# named parameters (an IN list an expanding one): SQLAlchemy's building of a select and
# of its cache key cost about as much CPU as running it. Tables are per read-model
# generation: bounded (then it starts over).
_BUILT: dict[tuple[Any, ...], Select[Any]] = {}
BUILT_KEPT = 512


def _built(key: tuple[Any, ...], build: Callable[[], Select[Any]]) -> Select[Any]:
    found = _BUILT.get(key)
    if found is None:
        found = build()
        if len(_BUILT) >= BUILT_KEPT:
            _BUILT.clear()
        _BUILT[key] = found
    return found


def _ids() -> BindParameter[Any]:
    return bindparam("ids", expanding=True)


DueKey = tuple[date, int]
"""Where a reviews-due page resumes: the next review date, then creation position."""


def agreements_page(
    rm: ReadModel,
    viewer: ReadScope,
    where: AgreementCriteria,
    first: int,
    after: int | DueKey | None,
) -> tuple[Select[Any], dict[str, Any]]:
    """The select behind every agreement list — up to `first` + 1 agreements (the
    extra one tells there is a next page), in creation order after the keyset cursor
    `after` — and its parameters. Values are named parameters, so the SQL depends only
    on the viewer's kind and which filters are set: the compiled reads
    (`api.graphql.compiled`) embed this very statement, authorization included."""
    a, p = rm.agreements, rm.people
    params: dict[str, Any] = {"page_limit": first + 1}
    conditions: list[ColumnElement[bool]] = []
    visible = _visible(rm, viewer)
    if visible is not None:
        params["viewer_id"] = viewer.person_id
        conditions.append(visible)

    def given(name: str, value: Any) -> Any:
        params[name] = value
        return bindparam(name)

    if isinstance(after, tuple):  # reviews due: by date, then creation
        due, position = after
        on_due = a.c.next_review_on == given("after_due", due)
        conditions.append(
            or_(
                a.c.next_review_on > bindparam("after_due"),
                and_(on_due, a.c.created_position > given("after", position)),
            )
        )
    elif after is not None:
        conditions.append(a.c.created_position > given("after", after))
    if where.status:
        conditions.append(a.c.status == given("status", where.status))
    if where.employee_tokens:
        named = a.c.employee_id.in_(_named(rm, where.employee_tokens))
        conditions.append(
            or_(a.c.employee_id == given("employee_id", where.employee_id), named)
            if where.employee_id
            else named
        )
    elif where.employee_id:
        conditions.append(a.c.employee_id == given("employee_id", where.employee_id))
    if where.updated_since:
        conditions.append(a.c.updated_at >= given("updated_since", where.updated_since))
    if where.due_before:
        conditions.append(a.c.next_review_on <= given("due_before", where.due_before))
    if where.manager_id or where.team_id:
        people = select(p.c.person_id)
        if where.manager_id:
            people = people.where(p.c.manager_id == given("manager_id", where.manager_id))
        if where.team_id:
            people = people.where(p.c.team_id == given("team_id", where.team_id))
        conditions.append(a.c.employee_id.in_(people))
    # Reviews due come soonest first; every other list in creation order.
    order = (
        (a.c.next_review_on, a.c.created_position) if where.due_before else (a.c.created_position,)
    )
    query = select(a).where(*conditions).order_by(*order)
    return query.limit(bindparam("page_limit", type_=Integer)), params


def list_agreements(
    conn: Connection,
    rm: ReadModel,
    viewer: ReadScope,
    where: AgreementCriteria,
    first: int,
    after: int | DueKey | None,
    columns: Iterable[str] = (),
) -> list[Row]:
    """Up to `first` + 1 visible agreements matching `where`, after the cursor: whole
    rows, or only `columns`."""
    query, params = agreements_page(rm, viewer, where, first, after)
    if columns:
        query = query.with_only_columns(*(rm.agreements.c[name] for name in columns))
    return _rows(conn, query, params)


def agreements_by_id(
    conn: Connection, rm: ReadModel, viewer: ReadScope, ids: Iterable[str]
) -> dict[str, Row]:
    """The visible agreements among `ids` (invisible ones are simply absent)."""
    a = rm.agreements

    def build() -> Select[Any]:
        query = select(a).where(a.c.agreement_id.in_(_ids()))
        visible = _visible(rm, viewer)
        return query if visible is None else query.where(visible)

    # The viewer's kind decides the SQL (`_visible`).
    query = _built(("agreements_by_id", a, viewer.sees_all, viewer.is_manager), build)
    params: dict[str, Any] = {} if viewer.sees_all else {"viewer_id": viewer.person_id}
    found: dict[str, Row] = {}
    for chunk in _chunks(ids):
        found.update((r["agreement_id"], r) for r in _rows(conn, query, params | {"ids": chunk}))
    return found


def children(
    conn: Connection, rm: ReadModel, kind: str, agreement_ids: Iterable[str]
) -> dict[str, list[Row]]:
    """Adjustments, reallocations, reviews, artifacts or changes of many agreements in
    one query per 500 agreements, each list in recorded order."""
    table = getattr(rm, kind)
    query = _built(
        ("children", table),
        lambda: select(table).where(table.c.agreement_id.in_(_ids())).order_by(*_run_keys(table)),
    )
    grouped: dict[str, list[Row]] = defaultdict(list)
    for chunk in _chunks(agreement_ids):
        for row in _rows(conn, query, {"ids": chunk}):
            grouped[row["agreement_id"]].append(row)
    return grouped


Cursor = tuple[int, int]
"""Where a run of a list ends: the position of the event that recorded a row, then its
order within that event (0 for lists of one row per event)."""


@dataclass(frozen=True)
class Slice:
    """A run of one agreement's list: its rows in recorded order, how many the list
    holds in all, and how many were recorded after the run."""

    rows: list[Row]
    total: int
    later: int

    @property
    def earlier(self) -> int:
        """How many were recorded before the run."""
        return self.total - self.later - len(self.rows)


def cursor_of(row: Row) -> Cursor:
    """Where a list's run that ends before `row` starts reading."""
    return int(row["position"]), int(row.get("seq") or 0)


LIST_TOTAL = "list_total_"  # the list's count, carried by each row of a run (then dropped)


_RUN_OF = "run_agreement_id"


def list_slice(
    conn: Connection,
    rm: ReadModel,
    kind: str,
    agreement_id: str,
    shown: int,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> Slice:
    """The `shown` rows of one agreement's list (adjustments, reallocations, reviews,
    artifacts, or "changes": those still in effect) recorded last before `before`
    (the latest when neither is given), or first after `after`: one range read along
    the list's index (agreement, position[, seq]), however long the list, carrying the
    list's count for the page's headings (so the latest run is one statement: nothing is
    later), and for an earlier or later run one more count, of the rows after it."""
    table: Table = getattr(rm, kind)
    keys = _run_keys(table)
    latest = before is None and after is None
    if latest:
        # Five per agreement page (`_built`): the agreement a named parameter.
        query = _built(("latest_run", table, shown), lambda: _run(table, kind, shown, None, None))
    else:
        query = _run(table, kind, shown, before, after)
    rows = _rows(conn, query, {_RUN_OF: agreement_id})
    rows = rows if after is not None else rows[::-1]
    totals = {row.pop(LIST_TOTAL) for row in rows}
    if totals:
        total = int(totals.pop())
    else:  # no row to carry it: the latest run of an empty list, or past either end
        total = (
            0
            if latest
            else int(conn.execute(_count(table, kind), {_RUN_OF: agreement_id}).scalar_one())
        )
    if latest:
        later = 0  # the latest run: nothing was recorded after it (no query for that)
    elif rows:
        after_run = _count(table, kind, tuple_(*keys) > tuple_(*cursor_of(rows[-1])[: len(keys)]))
        later = int(conn.execute(after_run, {_RUN_OF: agreement_id}).scalar_one())
    else:  # nothing in the run: everything is on the side it was asked from
        later = total if before is not None else 0
    return Slice(rows, total, later)


def _run_keys(table: Table) -> list[ColumnElement[Any]]:
    return [table.c.position] + ([table.c.seq] if "seq" in table.c else [])


def _run_of(table: Table, kind: str) -> list[ColumnElement[bool]]:
    """The rows of one agreement's list (the agreement the named parameter `_RUN_OF`)."""
    where = [table.c.agreement_id == bindparam(_RUN_OF)]
    if kind == "changes":
        where.append(table.c.reverted_by.is_(None))
    return where


def _count(table: Table, kind: str, *more: ColumnElement[bool]) -> Select[Any]:
    return select(func.count()).select_from(table).where(*_run_of(table, kind), *more)


def _run(
    table: Table, kind: str, shown: int, before: Cursor | None, after: Cursor | None
) -> Select[Any]:
    keys = _run_keys(table)
    key = tuple_(*keys)
    # The count rides along as an uncorrelated subquery (computed once per statement,
    # on both databases): one round trip fewer per list on PostgreSQL.
    total = _count(table, kind).scalar_subquery().label(LIST_TOTAL)
    query = select(table, total).where(*_run_of(table, kind)).limit(shown)
    if after is not None:
        return query.where(key > tuple_(*after[: len(keys)])).order_by(*keys)
    if before is not None:
        query = query.where(key < tuple_(*before[: len(keys)]))
    return query.order_by(*(k.desc() for k in keys))


def children_by_id(
    conn: Connection, rm: ReadModel, kind: str, agreement_id: str, ids: Iterable[str]
) -> dict[str, Row]:
    """Adjustments, reallocations or changes of one agreement by id (what a page names
    besides the run of a list it shows)."""
    table = getattr(rm, kind)
    key = {"adjustments": "adjustment_id", "reallocations": "reallocation_id"}.get(
        kind, "change_id"
    )
    query = _built(
        ("children_by_id", table),
        lambda: select(table).where(*_run_of(table, ""), table.c[key].in_(_ids())),
    )
    found: dict[str, Row] = {}
    for chunk in _chunks(ids):
        params = {_RUN_OF: agreement_id, "ids": chunk}
        found.update((str(r[key]), r) for r in _rows(conn, query, params))
    return found


def agreement_ids_of(conn: Connection, rm: ReadModel, employee_id: str) -> list[str]:
    """The ids of every agreement of the employee (no access check: for HR's erasure)."""
    a = rm.agreements
    query = select(a.c.agreement_id).where(a.c.employee_id == employee_id)
    return [str(r[0]) for r in conn.execute(query).all()]


def due_for_erasure(conn: Connection, rm: ReadModel, left_before: datetime) -> list[str]:
    """People inactive since before `left_before`, not erased and not on hold
    (retention), oldest first."""
    p = rm.people
    query = (
        select(p.c.person_id)
        .where(
            p.c.active.is_(False),
            p.c.erased.is_(False),
            p.c.legal_hold.is_(False),
            p.c.inactive_since <= left_before,
        )
        .order_by(p.c.inactive_since, p.c.person_id)
    )
    return [str(r[0]) for r in conn.execute(query).all()]


def erased_people(conn: Connection, rm: ReadModel) -> list[str]:
    """The ids of everyone erased."""
    p = rm.people
    return [str(r[0]) for r in conn.execute(select(p.c.person_id).where(p.c.erased)).all()]


def _named(rm: ReadModel, tokens: tuple[str, ...]) -> Select[Any]:
    """The ids of the people whose names hold every one of the hashed words `tokens`."""
    t = rm.name_tokens
    return (
        select(t.c.person_id)
        .where(t.c.token.in_(list(tokens)))
        .group_by(t.c.person_id)
        .having(func.count(func.distinct(t.c.token)) == len(tokens))
    )


def people_named(conn: Connection, rm: ReadModel, tokens: tuple[str, ...]) -> list[str]:
    """The ids of the people whose names hold every hashed word of `tokens`."""
    if not tokens:
        return []
    return sorted(conn.execute(_named(rm, tokens)).scalars())


NAMED = ("person_id", "display_name")
"""A person as a list of names shows them: fewer sealed values to open than a whole
row (e-mail addresses, names of the team...)."""


def people_by_id(
    conn: Connection, rm: ReadModel, ids: Iterable[str], columns: Iterable[str] = ()
) -> dict[str, Row]:
    """The people among `ids` in the directory: whole rows, or only `columns`."""
    p = rm.people
    names = tuple(columns)

    def build() -> Select[Any]:
        picked: list[Any] = [p.c[name] for name in names] or [p]
        return select(*picked).where(p.c.person_id.in_(_ids()))

    query = _built(("people_by_id", p, names), build)
    found: dict[str, Row] = {}
    for chunk in _chunks(ids):
        found.update((r["person_id"], r) for r in _rows(conn, query, {"ids": chunk}))
    return found


Named = tuple[str, str]
"""A person as (person id, display name)."""


@dataclass(frozen=True)
class Around:
    """The people around an agreement's employee, as `people_around` reads them."""

    manager_id: str | None  # whom the employee reports to now
    names: dict[str, str]  # person id -> display name: the ids asked and the manager
    # The manager's active reports, by id, as (person id, display name): the rows the
    # receiver list is kept by (`domain.sealing.Kept`); None: not asked.
    reports: list[Named] | None


def people_around(
    conn: Connection, rm: ReadModel, employee_id: str, ids: Iterable[str], reports: bool
) -> Around:
    """Whom `employee_id` reports to, the names of `ids` and of that manager, and (with
    `reports`) the active people that manager manages — what `people_by_id` twice and
    `reports_of` read, in one statement (with more than `CHUNK` ids, one per chunk more):
    the agreement page's directory reads were three round trips."""
    p = rm.people
    # The manager as the directory says now, found by the database in the same statement.
    boss = select(p.c.manager_id).where(p.c.person_id == employee_id).scalar_subquery()
    columns = (p.c.person_id, p.c.display_name, p.c.manager_id, p.c.active)
    chunks = list(_chunks({*ids, employee_id}))
    first = or_(p.c.person_id.in_(chunks[0]), p.c.person_id == boss)
    if reports:
        first = or_(first, and_(p.c.manager_id == boss, p.c.active.is_(True)))
    # Ordered by id as `reports_of` orders them (the database's collation decides). The
    # rows stay the driver's tuples (person id, name, manager, active): a manager's
    # hundreds of reports were made into dicts twice per agreement page, a tenth of it.
    rows = conn.execute(select(*columns).where(first).order_by(p.c.person_id)).all()
    found = {r[0]: r for r in rows}
    for chunk in chunks[1:]:
        found.update(
            (r[0], r) for r in conn.execute(select(*columns).where(p.c.person_id.in_(chunk)))
        )
    employee = found.get(employee_id)
    manager_id = employee[2] if employee else None
    named = {*ids, employee_id} | ({manager_id} if manager_id else set())
    names = {pid: r[1] for pid, r in found.items() if pid in named}
    managed = None
    if reports:
        # Every report is in the first statement's rows (the reports' condition is
        # there), in its order.
        managed = (
            [(r[0], r[1]) for r in rows if r[2] == manager_id and r[3]]
            if manager_id is not None
            else []
        )
    return Around(manager_id, names, managed)


def reports_of(
    conn: Connection, rm: ReadModel, manager_id: str, columns: Iterable[str] = ()
) -> list[Row]:
    """The active people `manager_id` manages, as the directory says now: whole rows,
    or only `columns`."""
    p = rm.people
    picked: list[Any] = [p.c[name] for name in columns] or [p]
    query = select(*picked).where(p.c.manager_id == manager_id, p.c.active.is_(True))
    return _rows(conn, query.order_by(p.c.person_id))


def audit_log(
    conn: Connection,
    rm: ReadModel,
    where: AuditFilter,
    first: int,
    after: int | None,
    newest_first: bool,
) -> list[Row]:
    """Events matching the auditor's filter, by position either way."""
    log = rm.audit_log
    order = log.c.position.desc() if newest_first else log.c.position
    conditions = []
    if after is not None:
        conditions.append(log.c.position < after if newest_first else log.c.position > after)
    if where.agreement_id:
        conditions.append(log.c.agreement_id == where.agreement_id)
    if where.actor_tokens:
        named = log.c.actor_id.in_(_named(rm, where.actor_tokens))
        conditions.append(or_(log.c.actor_id == where.actor_id, named) if where.actor_id else named)
    elif where.actor_id:
        conditions.append(log.c.actor_id == where.actor_id)
    if where.types:
        conditions.append(log.c.type.in_(where.types))
    if where.recorded_from:
        conditions.append(log.c.recorded_at >= where.recorded_from)
    if where.recorded_to:
        conditions.append(log.c.recorded_at < where.recorded_to)
    return _rows(conn, select(log).where(*conditions).order_by(order).limit(first + 1))


def recent_activity(
    conn: Connection,
    rm: ReadModel,
    viewer: ReadScope,
    manager_id: str | None,
    first: int,
    columns: Iterable[str] = (),
) -> list[Row]:
    """The newest events of the visible agreements (of `manager_id`'s reports, when
    given), each with its agreement's title and employee (and of the event only
    `columns`, when given): one query, however many reports (the log is read backwards
    by position and stops at `first`)."""
    log, a, p = rm.audit_log, rm.agreements, rm.people
    params: dict[str, Any] = {"page_limit": first}
    conditions: list[ColumnElement[bool]] = []
    visible = _visible(rm, viewer)
    if visible is not None:
        params["viewer_id"] = viewer.person_id
        conditions.append(visible)
    if manager_id is not None:
        params["manager_id"] = manager_id
        reports = select(p.c.person_id).where(p.c.manager_id == bindparam("manager_id"))
        conditions.append(a.c.employee_id.in_(reports))
    of_agreement = {"title", "employee_id"}
    picked: list[Any] = [log.c[name] for name in columns if name not in of_agreement] or [log]
    query = (
        select(*picked, a.c.title, a.c.employee_id)
        .join(a, a.c.agreement_id == log.c.agreement_id)
        .where(*conditions)
        .order_by(log.c.position.desc())
        .limit(bindparam("page_limit", type_=Integer))
    )
    return _rows(conn, query, params)


def net_received(conn: Connection, rm: ReadModel, person_ids: Iterable[str]) -> dict[str, float]:
    """Hours per week each person receives, net of what they give, through ACTIVE
    reallocations across all agreements (what the receiving limit counts)."""
    r = rm.reallocations
    net: dict[str, float] = dict.fromkeys(person_ids, 0.0)
    for chunk in _chunks(net):
        for column, sign in ((r.c.to_person_id, 1.0), (r.c.from_person_id, -1.0)):
            query = (
                select(column, func.sum(r.c.hours_per_week))
                .where(column.in_(chunk), r.c.status == "ACTIVE")
                .group_by(column)
            )
            for pid, total in conn.execute(query).all():
                net[pid] += sign * float(total)
    return net


def change_feed(conn: Connection, rm: ReadModel, after: int | None, first: int) -> list[Row]:
    """Every event once, in commit order, after the cursor position."""
    log = rm.audit_log
    query = select(log).order_by(log.c.position).limit(first + 1)
    if after is not None:
        query = query.where(log.c.position > after)
    return _rows(conn, query)


def team_workload(conn: Connection, rm: ReadModel, team_id: str) -> list[Row]:
    """Per team member: contracted, development, received and given hours."""
    a, r, p = rm.agreements, rm.reallocations, rm.people
    development = (
        select(a.c.employee_id, func.sum(a.c.development_hours).label("hours"))
        .where(a.c.status == "ACTIVE")
        .group_by(a.c.employee_id)
        .subquery()
    )
    received = (
        select(r.c.to_person_id.label("person_id"), func.sum(r.c.hours_per_week).label("hours"))
        .where(r.c.status == "ACTIVE")
        .group_by(r.c.to_person_id)
        .subquery()
    )
    given = (
        select(r.c.from_person_id.label("person_id"), func.sum(r.c.hours_per_week).label("hours"))
        .where(r.c.status == "ACTIVE")
        .group_by(r.c.from_person_id)
        .subquery()
    )
    query = (
        select(
            p.c.person_id,
            p.c.display_name,
            p.c.manager_id,
            p.c.contracted_hours_per_week,
            func.coalesce(development.c.hours, 0.0).label("development_hours"),
            func.coalesce(received.c.hours, 0.0).label("hours_received"),
            func.coalesce(given.c.hours, 0.0).label("hours_given"),
        )
        .select_from(p)
        .outerjoin(development, development.c.employee_id == p.c.person_id)
        .outerjoin(received, received.c.person_id == p.c.person_id)
        .outerjoin(given, given.c.person_id == p.c.person_id)
        .where(p.c.team_id == team_id, p.c.active.is_(True))
        .order_by(p.c.person_id)
    )
    return _rows(conn, query)


def skill_evidence(artifacts: Iterable[Row]) -> list[Row]:
    """Skills shown by these artifacts, with how many artifacts show each (most first)."""
    counts = Counter(skill for a in artifacts for skill in set(a["skills"]))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"skill": skill, "evidence_count": count} for skill, count in ordered]


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(set(ids))
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
