"""The served figures behind the monthly series of development time and reviews, from
what the projector keeps (projections.insights.month_close): a closed month's rows of
`insight_months`; a month after the log's latest event has seen no change, so its
figures are today's tables' — counted with its own last day as today for the reviews
(a review becomes overdue with the date alone), and the current month's are today's.
Released by `figures.series_tables`, like the full computation's
(projections.insights.series)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from projections.insights.month_close import last_day
from projections.insights.months import TeamFigures, team_figures
from projections.tables import ReadModel


def kept_figures(
    conn: Connection,
    rm: ReadModel,
    listed: Sequence[str],
    latest: str | None,
    today: list[TeamFigures],
) -> list[tuple[str, list[TeamFigures]]]:
    """Per listed month (oldest first, the last one the current month), each team's
    figures at its close; `latest` is the month of the log's latest event (months
    before it are stored), `today` the current month's figures."""
    stored = [m for m in listed if latest is not None and m < latest]
    found: dict[str, list[TeamFigures]] = {m: [] for m in stored}
    if stored:
        t = rm.insight_months
        rows = conn.execute(
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
            .where(t.c.month.in_(stored))
            .order_by(t.c.month, t.c.team_id)
        )
        for month, *figures in rows:
            found[month].append(TeamFigures(*figures))
    for month in listed[:-1]:
        if month not in found:  # after the latest event: no change since, but a later day
            found[month] = team_figures(conn, rm, last_day(month))
    if listed:
        found[listed[-1]] = today
    return [(month, found[month]) for month in listed]
