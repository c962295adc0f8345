"""The insights page: the released tables (docs/insights.md) for HR and auditors, a
manager's teams' rows for a manager; each chart with the same figures as a table."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response

from api.read_side import Insights, Month, ReleasedRow, Table
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


# The one-shot tables' chart bars and table rows are made here, not in the template:
# at 100,000 people each has 4,444 rows, and Jinja's work per row (filters, tests) was
# most of the page's time. The same markup the template wrote row by row.


def bars(rows: list[ReleasedRow], row_h: int, left: int) -> Markup:
    """A bar per row: its group (cut to 18 characters), its share and the figure."""
    out = []
    for i, r in enumerate(rows):
        y = i * row_h + 4
        pct = share(r) or 0
        group = r.group if len(r.group) <= 23 else r.group[:17] + "…"  # Jinja's truncate
        out.append(
            f'  <text x="0" y="{y + 14}" font-size="12" fill="#1b1f24">{escape(group)}</text>\n'
            f'  <rect x="{left}" y="{y}" width="{max(pct * 3, 1)}" height="18" '
            f'fill="#0b57a4"></rect>\n'
            f'  <text x="{left + pct * 3 + 4}" y="{y + 14}" font-size="12" '
            f'fill="#1b1f24">{pct:g} %</text>\n'
        )
    return Markup("".join(out))  # noqa: S704 (every text escaped above)


def table_rows(section: Section) -> Markup:
    """The table's rows and its total: the counts, the share and the value, or
    "Withheld"."""
    out = []
    for r in [*section.rows, *([section.total] if section.total else [])]:
        out.append(f'  <tr><th scope="row">{escape(r.group)}</th>\n')
        if r.counts:
            out.append(
                f"  <td>{r.counts[0]}</td><td>{r.counts[1]}</td><td>{share(r) or 0:g} %</td>"
            )
            if section.value:
                out.append(f"<td>{'—' if r.measure is None else f'{r.measure:g}'}</td>")
        else:
            out.append(f'  <td colspan="{4 if section.value else 3}">Withheld</td>\n')
        out.append("</tr>\n")
    return Markup("".join(out))  # noqa: S704 (every text escaped above)


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
        everyone = reach == "all"
        chosen = request.query_params.get("team", "").strip() or None
        teams = monthly_teams(found)
        # HR and auditors: the whole organisation's months and one chosen team's (every
        # team x month is ~230,000 cells at 100,000 people); a manager: their own teams.
        shown = teams if not everyone else [] if chosen not in teams else [chosen]
        return self.site.render(
            request,
            "insights.html",
            session,
            everyone=everyone,
            minimum=found.minimum,
            sections=[s for s in sections(found) if s.rows],
            series=[s for s in monthly(found, shown) if s.released],
            team_options=[(t, t) for t in teams],  # 4,444 at 100,000 people
            chosen=chosen,
            unknown=chosen is not None and chosen not in teams,
            share=share,
            bar=BAR,
            bars=bars,
            table_rows=table_rows,
        )


@dataclass(frozen=True)
class Series:
    """One table released per month, as the page shows it: per team a cell per month
    ("withheld", "—" when released without a value, or the figure), and the whole
    organisation's, which the chart draws (HR and auditors only: managers see no
    totals). `teams` are those asked for (a manager's, or the one HR chose)."""

    key: str  # the section's id
    title: str
    caption: str  # what each team's figure is
    chart: str  # what the chart's bars are
    months: list[str]
    teams: list[tuple[str, list[str]]]
    everyone: str  # the whole organisation's row
    totals: list[float | None]  # the chart's bars (None: withheld or no value)
    total_cells: list[str]
    released: bool  # any team has a row in any month (else the series is not shown)


Figure = Callable[[ReleasedRow], float | None]


def _cell(row: ReleasedRow | None, figure: Figure, unit: str) -> str:
    if row is None or row.counts is None:
        return "withheld"
    value = figure(row)
    return "—" if value is None else f"{value:g}{unit}"


def _series(
    key: str, months: tuple[Month, ...], figure: Figure, total: Figure, shown: Collection[str]
) -> Series:
    teams = sorted({r.group for m in months for r in m.table.rows if r.group in shown})
    rows = [{r.group: r for r in m.table.rows if r.group in shown} for m in months]
    title, caption, chart, everyone, total_unit = WORDS[key]
    return Series(
        key,
        title,
        caption,
        chart,
        months=[m.month for m in months],
        teams=[(t, [_cell(found.get(t), figure, " %") for found in rows]) for t in teams],
        everyone=everyone,
        totals=[None if m.table.total is None else total(m.table.total) for m in months],
        total_cells=[_cell(m.table.total, total, total_unit) for m in months],
        released=any(m.table.rows for m in months),
    )


# Per series: title, what a team's figure is, what the chart draws, the whole
# organisation's row and its unit.
WORDS = {
    "months": (
        "Participation by month",
        "Share of each team with an agreement in effect, at the end of each month "
        "(this month: so far)",
        "People with an agreement in effect at the end of each month, the whole organisation.",
        "All (people)",
        "",
    ),
    "development-months": (
        "Development time by month",
        "Development hours as a % of each team's contracted hours, at the end of each "
        "month (this month: so far)",
        "Development hours as a % of contracted hours at the end of each month, the whole "
        "organisation.",
        "All",
        " %",
    ),
    "review-months": (
        "Reviews by month",
        "Share of each team's people with an active agreement whose review was overdue, "
        "at the end of each month (this month: so far)",
        "Share of the people with an active agreement whose review was overdue at the end "
        "of each month, the whole organisation.",
        "All",
        " %",
    ),
    "outcome-months": (
        "Outcomes by month",
        "Share of the people of each team whose latest outcome, reached that month, was a "
        "move or a promotion (this month: so far; — : nobody reached one)",
        "People whose latest outcome, reached that month, was a move or a promotion, the "
        "whole organisation.",
        "All (people)",
        "",
    ),
}


def _people(row: ReleasedRow) -> float | None:
    return None if row.counts is None else row.counts[0]


def _hours(row: ReleasedRow) -> float | None:
    return None if row.counts is None else row.measure


def _all_series(found: Insights) -> tuple[tuple[Month, ...], ...]:
    return (
        found.participation_by_month,
        found.development_time_by_month,
        found.reviews_by_month,
        found.outcomes_by_month,
    )


def monthly_teams(found: Insights) -> list[str]:
    """The teams with a row in any month of any monthly series, sorted."""
    return sorted({r.group for series in _all_series(found) for m in series for r in m.table.rows})


def monthly(found: Insights, shown: Collection[str]) -> list[Series]:
    """Participation, development time and reviews at the end of each month, and the
    outcomes reached in each month: the whole organisation's and `shown` teams'."""
    participation, development, reviews, outcomes = _all_series(found)
    return [
        _series("months", participation, share, _people, shown),
        _series("development-months", development, _hours, _hours, shown),
        _series("review-months", reviews, share, share, shown),
        _series("outcome-months", outcomes, share, _people, shown),
    ]
