"""Every insight table read from what the projector keeps, released by the same rules
as `figures.compute`, which gives the same tables from the whole log
(`tests/integration/test_insights_precomputed.py` holds the two equal):

- participation today and development time: one grouped select over today's people
  and running agreements; the closed months: their stored rows
  (projections.insights.months);
- reallocated hours: the reallocations in effect, with their people's team today;
- reviews: per team, the people with an active agreement and those whose next review
  is before today (worked out at request time: 'today' is never stored);
- outcomes: each person's latest outcome in effect, kept with their team then, the
  days to it and their target role's keyed hashes (projections.insights.kept_outcomes);
- skills: the skills named, kept as keyed hashes, counted in SQL
  (projections.insights.kept_skills).

Only the labels shown (target roles, skills) are opened, by the caller's `opener`.

None of it reads the audit log."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from projections.insights.figures import (
    Insights,
    Month,
    Table,
    hours_table,
    month_ends,
    release,
)
from projections.insights.kept_outcomes import outcome_tables
from projections.insights.kept_skills import skills_tables
from projections.insights.months import InsightClock, month_of, team_figures
from projections.insights.series_kept import ClosedRows, kept_series, stored_months
from projections.insights.suppression import Counts
from projections.tables import ReadModel

# Opens the sealed texts in a value (lists of strings): the target roles and skills.
Opener = Callable[[Any], Any]


def _as_is(value: Any) -> Any:
    return value


def read_precomputed(
    conn: Connection,
    rm: ReadModel,
    minimum: int,
    now: datetime,
    opener: Opener = _as_is,
    closed_rows: ClosedRows | None = None,
) -> Insights:
    """Every table as of `now` (not before the log's latest event); `closed_rows`: the closed
    months' rows read before from this database (series_kept.stored_months)."""
    figures = team_figures(conn, rm, now.date())
    today: dict[str, Counts] = {f.team: (f.running, f.members - f.running) for f in figures}
    members = {f.team: f.members for f in figures}
    contracted = {f.team: f.contracted for f in figures}
    development = {f.team: f.development for f in figures}
    # Of the people with an active agreement, those with a review overdue.
    reviews = {f.team: (f.overdue, f.reviewed - f.overdue) for f in figures}

    def development_share(teams: Sequence[str]) -> float | None:
        hours_contracted = sum(contracted[t] for t in teams)
        hours = sum(development[t] for t in teams)
        return None if hours_contracted <= 0 else round(100 * hours / hours_contracted, 1)

    clock = InsightClock.load(conn, rm)
    listed = [label for label, _ in month_ends(clock.first_approved_at, now)]
    latest = None if clock.latest_at is None else month_of(clock.latest_at)
    # Months before the latest event's are stored and never change; nothing has changed
    # since the latest event, so later months are today's.
    stored = [label for label in listed if latest is not None and label < latest]
    # The closed months' rows, read once for every monthly series (series_kept).
    kept = stored_months(conn, rm, stored, closed_rows)
    closed = {
        label: _released({r[0]: (r[1], r[2] - r[1]) for r in rows}, minimum, label)
        for label, rows in kept.items()
    }
    now_table = release(today, minimum)

    by_team, by_role, by_month = outcome_tables(conn, rm, minimum, opener, listed)
    a = rm.agreements
    population = conn.execute(
        select(func.count(distinct(a.c.employee_id))).where(a.c.approved_at.is_not(None))
    ).scalar_one()
    targeted, evidenced = skills_tables(conn, rm, int(population), minimum, opener)
    development_by_month, reviews_by_month = kept_series(conn, rm, listed, kept, figures, minimum)
    return Insights(
        minimum=minimum,
        as_of=now,
        participation=now_table,
        participation_by_month=tuple(
            Month(label, closed.get(label, now_table)) for label in listed
        ),
        development_time=release(today, minimum, development_share),
        hours_given=hours_table(members, _hours(conn, rm, given=True), minimum),
        hours_received=hours_table(members, _hours(conn, rm, given=False), minimum),
        outcomes_by_team=by_team,
        outcomes_by_target_role=by_role,
        reviews=release(reviews, minimum),
        skills_targeted=targeted,
        skills_evidenced=evidenced,
        development_time_by_month=development_by_month,
        reviews_by_month=reviews_by_month,
        outcomes_by_month=by_month,
    )


def _hours(conn: Connection, rm: ReadModel, given: bool) -> dict[str, list[float]]:
    """Per team today, the hours per week each member gives (receives) through the
    reallocations in effect, of the members with any."""
    r, p = rm.reallocations, rm.people
    person = r.c.from_person_id if given else r.c.to_person_id
    ledger: dict[str, list[float]] = defaultdict(list)
    team_of: dict[str, str] = {}
    for pid, team, hours in conn.execute(
        select(person, p.c.team_id, r.c.hours_per_week)
        .select_from(r.join(p, p.c.person_id == person))
        .where(r.c.status == "ACTIVE", p.c.active.is_(True), p.c.team_id.is_not(None))
    ):
        ledger[pid].append(float(hours))
        team_of[pid] = team
    holders: dict[str, list[float]] = defaultdict(list)
    for pid, hours_list in ledger.items():
        held = math.fsum(hours_list)
        if held > 0:
            holders[team_of[pid]].append(held)
    return holders


# The latest released table of each (minimum, month), with the rows it was released
# from: a closed month's rows never change, so suppressing them again is mostly saved
# (reused only when the rows are equal, so it holds for any database and generation).
_RELEASED: dict[tuple[int, str], tuple[dict[str, Counts], Table]] = {}


def _released(rows: dict[str, Counts], minimum: int, month: str) -> Table:
    known = _RELEASED.get((minimum, month))
    if known is not None and known[0] == rows:
        return known[1]
    table = release(rows, minimum)
    _RELEASED[(minimum, month)] = (rows, table)
    return table
