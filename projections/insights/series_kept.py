"""The served figures behind the monthly series of development time and reviews, from
what the projector keeps (projections.insights.month_close): a closed month's rows of
`insight_months`; a month after the log's latest event has seen no change, so its
figures are today's tables' — counted with its own last day as today for the reviews
(a review becomes overdue with the date alone), and the current month's are today's.
Released by the same functions as the full computation's (projections.insights.series,
`figures.series_tables`); a closed month's tables once per process, like
`participationByMonth`'s (they never change)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from projections.insights.figures import Month, development_table, reviews_table
from projections.insights.month_close import last_day
from projections.insights.months import TeamFigures, team_figures
from projections.tables import ReadModel

# A closed month's stored rows: (team, participants, members, contracted, development,
# reviewed, overdue), by team.
Rows = tuple[tuple[Any, ...], ...]

# The latest released tables of each (minimum, closed month), with the rows they were
# released from: reused only when the rows are equal, so it holds for any database and
# generation (as precomputed._RELEASED does for participation).
_RELEASED: dict[tuple[int, str], tuple[Rows, tuple[Month, Month]]] = {}


def kept_series(
    conn: Connection,
    rm: ReadModel,
    listed: Sequence[str],
    stored: dict[str, Rows],
    today: list[TeamFigures],
    minimum: int,
) -> tuple[tuple[Month, ...], tuple[Month, ...]]:
    """Development time and reviews by month (`listed`, oldest first, the last one the
    current month); `stored`: the rows of the closed months (`stored_months`, those
    before the month of the log's latest event), `today` the current month's figures."""
    development, reviews = [], []
    for month in listed:
        rows = stored.get(month)
        known = None if rows is None else _RELEASED.get((minimum, month))
        if known is not None and known[0] == rows:
            released = known[1]
        else:
            if rows is not None:
                figures = [TeamFigures(*row) for row in rows]
            elif month == listed[-1]:
                figures = today
            else:  # after the latest event: no change since, but a later day
                figures = team_figures(conn, rm, last_day(month))
            released = (
                Month(month, development_table(figures, minimum)),
                Month(month, reviews_table(figures, minimum)),
            )
            if rows is not None:  # closed: never changes
                _RELEASED[(minimum, month)] = (rows, released)
        development.append(released[0])
        reviews.append(released[1])
    return tuple(development), tuple(reviews)


# Closed months' rows already read from one database, by (generation, month).
ClosedRows = dict[tuple[int, str], Rows]


def stored_months(
    conn: Connection, rm: ReadModel, months: list[str], known: ClosedRows | None = None
) -> dict[str, Rows]:
    """The stored rows of the closed `months` (a month without any: no rows), read once
    for every monthly series: participation's too (projections.insights.precomputed).
    `known`: the rows read before from this database, kept there as they are read (a
    closed month's rows never change within a generation; a rebuild makes a new one)."""
    if known is None:
        return _read_months(conn, rm, months)
    generation = rm.generation
    missing = [month for month in months if (generation, month) not in known]
    fresh = _read_months(conn, rm, missing)
    for key in [k for k in list(known) if k[0] != generation or k[1] not in months]:
        known.pop(key, None)  # months no longer listed, other generations
    for month, rows in fresh.items():
        known[(generation, month)] = rows
    return {
        month: fresh[month] if month in fresh else known[(generation, month)] for month in months
    }


def _read_months(conn: Connection, rm: ReadModel, months: list[str]) -> dict[str, Rows]:
    found: dict[str, list[tuple[Any, ...]]] = {month: [] for month in months}
    if months:
        t = rm.insight_months
        for month, *row in conn.execute(
            select(
                t.c.month,
                t.c.team_id,
                t.c.participants,
                t.c.members,
                t.c.contracted,
                t.c.development,
                t.c.reviewed,
                t.c.overdue,
            )
            .where(t.c.month.in_(months))
            .order_by(t.c.month, t.c.team_id)
        ):
            found[month].append(tuple(row))
    return {month: tuple(rows) for month, rows in found.items()}
