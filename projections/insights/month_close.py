"""What the projector keeps of each team when a month closes (`insight_months`): the
participation it always kept, and now the contracted and development hours and the
reviews on time and overdue, for the monthly series of development time and reviews.

A month closes when the log first shows an event of a later month
(projections.insights.months): the tables, before that event is applied, are as they
were at the month's last instant. Participation and hours are the same for every month
an event closes at once (nothing happened in between); the reviews are not, since a
review becomes overdue with the date alone, so each month is counted with its own
last day as 'today' (one grouped select per closed month, or, in a rebuild, from the
rows in memory)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.values import AgreementStatus
from projections.insights.months import RUNNING_STATUSES, TeamFigures

ACTIVE = str(AgreementStatus.ACTIVE)


def last_day(month: str) -> date:
    """The last day of a YYYY-MM month."""
    year, number = int(month[:4]), int(month[5:])
    following = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return (following - timedelta(days=1)).date()


def closing_rows(
    months: Iterable[str], figures_on: Callable[[date], list[TeamFigures]]
) -> list[dict[str, Any]]:
    """`insight_months` rows of the closed `months`, each team's figures counted with
    the month's last day as today."""
    return [
        month_row(month, f)
        for month in months
        for f in sorted(figures_on(last_day(month)), key=lambda f: f.team)
    ]


def month_row(month: str, f: TeamFigures) -> dict[str, Any]:
    """One team's `insight_months` row of a closed month."""
    return {
        "month": month,
        "team_id": f.team,
        "participants": f.running,
        "members": f.members,
        "contracted": f.contracted,
        "development": f.development,
        "reviewed": f.reviewed,
        "overdue": f.overdue,
    }


def figures_of_rows(
    people: Iterable[Mapping[str, Any]], agreements: Iterable[Mapping[str, Any]], today: date
) -> list[TeamFigures]:
    """`months.team_figures` of rows held in memory (a rebuild holds every person and
    every agreement still running), in the same order of summing: per person, then per
    team."""
    hours: dict[str, float] = {}
    reviewed: set[str] = set()
    overdue: set[str] = set()
    for a in agreements:
        if a["status"] not in RUNNING_STATUSES:
            continue
        pid = a["employee_id"]
        hours[pid] = hours.get(pid, 0.0) + float(a["development_hours"])
        if a["status"] == ACTIVE:
            reviewed.add(pid)
            if a["next_review_on"] is not None and a["next_review_on"] < today:
                overdue.add(pid)
    teams: dict[str, list[Any]] = {}
    for person in people:
        team = person.get("team_id")
        if not person.get("active") or team is None:
            continue
        pid = person["person_id"]
        found = teams.setdefault(team, [0, 0, 0.0, 0.0, 0, 0])
        found[0] += pid in hours
        found[1] += 1
        found[2] += float(person["contracted_hours_per_week"])
        found[3] += hours.get(pid, 0.0)
        found[4] += pid in reviewed
        found[5] += pid in overdue
    return [TeamFigures(team, *figures) for team, figures in teams.items()]
