"""The insights page: the released tables (docs/insights.md) for HR and auditors, a
manager's teams' rows for a manager; each chart with the same figures as a table."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from api.read_side import Insights, ReleasedRow, Table
from api.web.site import Site, to_sign_in
from domain.access import insights_reach

BAR = 100  # viewBox units of a full (100 %) bar


@dataclass(frozen=True)
class Section:
    """One released table as the page shows it."""

    title: str
    counts: str  # what the count counts, in words
    value: str | None  # what the value is, if the table has one
    rows: list[ReleasedRow]
    total: ReleasedRow | None


def share(row: ReleasedRow) -> float | None:
    """The row's count as a % of its group (None when withheld)."""
    if row.counts is None or sum(row.counts) == 0:
        return None
    return round(100 * row.counts[0] / sum(row.counts), 1)


def sections(found: Insights) -> list[Section]:
    def section(title: str, counts: str, table: Table, value: str | None = None) -> Section:
        return Section(title, counts, value, list(table.rows), table.total)

    return [
        section("Participation", "have an agreement in effect", found.participation),
        section(
            "Development time",
            "have an agreement in effect",
            found.development_time,
            "Development hours, % of contracted hours",
        ),
        section(
            "Work given away", "give work to others", found.hours_given, "Hours per week given"
        ),
        section(
            "Work taken on",
            "take on others' work",
            found.hours_received,
            "Hours per week received",
        ),
        section(
            "Outcomes by team",
            "moved or were promoted (of those with an outcome)",
            found.outcomes_by_team,
            "Median days from approval to outcome",
        ),
        section(
            "Outcomes by target role",
            "moved or were promoted (of those with an outcome)",
            found.outcomes_by_target_role,
            "Median days from approval to outcome",
        ),
        section(
            "Skills in career goals",
            "name the skill in a goal (of those with an approved agreement)",
            found.skills_targeted,
        ),
        section(
            "Skills shown by evidence",
            "have evidence of the skill (of those with an approved agreement)",
            found.skills_evidenced,
        ),
        section(
            "Reviews",
            "have a review overdue (of those with an active agreement)",
            found.reviews,
        ),
    ]


class InsightsPage:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def show(self, request: Request) -> Response:
        """HR and auditors: everything released; managers: their teams' rows."""
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        reach = insights_reach(session.actor)
        if reach is None:
            return self.site.not_found(request, session)
        found = await asyncio.to_thread(
            self.site.ports.reads.insights, session.actor.id, reach, datetime.now(UTC)
        )
        months = [
            (m.month, m.table.total.counts[0] if m.table.total and m.table.total.counts else None)
            for m in found.participation_by_month
        ]
        return self.site.render(
            request,
            "insights.html",
            session,
            everyone=reach == "all",
            minimum=found.minimum,
            sections=[s for s in sections(found) if s.rows],
            months=months,
            month_teams=_month_teams(found),
            share=share,
            bar=BAR,
        )


def _month_teams(found: Insights) -> list[tuple[str, list[tuple[str, float | None]]]]:
    """Per team, its share participating in each month (None when withheld)."""
    teams = sorted({r.group for m in found.participation_by_month for r in m.table.rows})
    return [
        (
            team,
            [
                (m.month, next((share(r) for r in m.table.rows if r.group == team), None))
                for m in found.participation_by_month
            ],
        )
        for team in teams
    ]
