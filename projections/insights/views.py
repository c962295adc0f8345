"""What a viewer of the insights is given: everything released, or a manager's teams.

A manager sees the rows of the teams their reports are in, exactly as released for the
whole organisation (a suppressed row stays suppressed), and no totals or target roles:
those describe people outside their teams."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from projections.insights.figures import Insights, Month, Table


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
