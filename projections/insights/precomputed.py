"""Participation (today and by month) and development time read from what the
projector keeps (projections.insights.months) and released by the same rules as
`figures.compute`, which gives the same tables from the whole log: per team, one grouped
select over today's people and running agreements, and the stored rows of the closed
months. `tests/integration/test_insights_precomputed.py` holds the two equal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from projections.insights.figures import Kept, Month, Table, month_ends, release
from projections.insights.months import InsightClock, month_of, team_figures
from projections.insights.suppression import Counts
from projections.tables import ReadModel


def read_precomputed(conn: Connection, rm: ReadModel, minimum: int, now: datetime) -> Kept:
    """The tables as of `now` (not before the log's latest event)."""
    figures = team_figures(conn, rm)
    today: dict[str, Counts] = {t: (yes, members - yes) for t, yes, members, _, _ in figures}
    contracted = {t: hours for t, _, _, hours, _ in figures}
    development = {t: hours for t, _, _, _, hours in figures}

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
    closed = {
        label: _released(rows, minimum, label)
        for label, rows in _closed_months(conn, rm, stored).items()
    }
    now_table = release(today, minimum)
    return Kept(
        participation=now_table,
        participation_by_month=tuple(
            Month(label, closed.get(label, now_table)) for label in listed
        ),
        development_time=release(today, minimum, development_share),
    )


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


def _closed_months(
    conn: Connection, rm: ReadModel, months: list[str]
) -> dict[str, dict[str, Counts]]:
    """The stored rows of `months` (a month without any is an empty table)."""
    t = rm.insight_months
    found: dict[str, dict[str, Counts]] = {month: {} for month in months}
    if not months:
        return found
    for month, team, yes, members in conn.execute(
        select(t.c.month, t.c.team_id, t.c.participants, t.c.members).where(t.c.month.in_(months))
    ):
        found.setdefault(month, {})[team] = (yes, members - yes)
    return found
