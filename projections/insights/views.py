"""What a viewer of the insights is given: everything released, or a manager's teams;
and the rows a caller selects of a released table.

A manager sees the rows of the teams their reports are in, exactly as released for the
whole organisation (a suppressed row stays suppressed), and no totals or target roles:
those describe people outside their teams."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from projections.insights.figures import Insights, Month, ReleasedRow, Table


def for_teams(insights: Insights, teams: Collection[str]) -> Insights:
    """The released figures of `teams` only."""

    def only(table: Table) -> Table:
        return Table(tuple(r for r in table.rows if r.group in teams), None)

    return replace(
        insights,
        participation=only(insights.participation),
        participation_by_month=tuple(
            Month(m.month, only(m.table)) for m in insights.participation_by_month
        ),
        development_time=only(insights.development_time),
        hours_given=only(insights.hours_given),
        hours_received=only(insights.hours_received),
        outcomes_by_team=only(insights.outcomes_by_team),
        outcomes_by_target_role=Table((), None),
        reviews=only(insights.reviews),
        skills_targeted=Table((), None),
        skills_evidenced=Table((), None),
        development_time_by_month=tuple(
            Month(m.month, only(m.table)) for m in insights.development_time_by_month
        ),
        reviews_by_month=tuple(Month(m.month, only(m.table)) for m in insights.reviews_by_month),
        outcomes_by_month=tuple(Month(m.month, only(m.table)) for m in insights.outcomes_by_month),
    )


def selected(
    rows: Sequence[ReleasedRow],
    groups: Collection[str] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Sequence[ReleasedRow]:
    """Some of a released table's rows, in its order: those of `groups` (unknown names
    give no row), then those after the row of the group `after` (None: from the first),
    at most `first`. Only selected, never released again: which rows are withheld was
    decided over the whole table, so a selection gives away nothing the whole does not.
    Raises KeyError when no row is the group `after`."""
    if groups is not None:
        wanted = set(groups)
        rows = [r for r in rows if r.group in wanted]
    if after is not None:
        index = next((i for i, r in enumerate(rows) if r.group == after), None)
        if index is None:
            raise KeyError(after)
        rows = rows[index + 1 :]
    return rows if first is None else rows[:first]
