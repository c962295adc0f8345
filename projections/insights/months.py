"""The insights' clock and each team's figures as the tables say now, kept for each
closed month (projections.insights.month_close), so the insights' monthly series read a
few rows per month instead of the whole log (docs/insights.md, Speed).

The projector (projections.projector) keeps a clock: the latest event time it has seen
and the first approval. When an event belongs to a later month than every event before
it, the months in between have just closed, and the read models, before that event is
applied, hold the directory and the agreements exactly as they were at those months'
last instant (nothing happened since). So each closed month's figures are counted then
from the tables (`team_figures`) — or, in a rebuild, from the rows the projector holds
in memory (month_close.figures_of_rows) — and stored once in `insight_months`; later
events never touch it. A month after the log's latest event has seen no change either,
so its figures are today's (projections.insights.precomputed, series_kept).

This relies on the log's event times following its order, as `facts.read_facts` does
(a person's team at an instant is the one of their latest event up to it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from domain.agreement.lifecycle import RUNNING
from domain.values import AgreementStatus
from projections.insights.facts import utc
from projections.tables import ReadModel

CLOCK = "log"  # the clock's one row
RUNNING_STATUSES = tuple(sorted(str(status) for status in RUNNING))


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def months_from(first: str, stop: str) -> Iterable[str]:
    """Month labels from `first` up to, not including, `stop` (both YYYY-MM)."""
    year, month = int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" < stop:
        yield f"{year:04d}-{month:02d}"
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)


@dataclass
class InsightClock:
    """How far the log's time has gone, and when the first agreement was approved."""

    latest_at: datetime | None = None
    first_approved_at: datetime | None = None
    changed: bool = False

    @classmethod
    def load(cls, conn: Connection, rm: ReadModel) -> InsightClock:
        t = rm.insight_clock
        row = conn.execute(
            select(t.c.latest_at, t.c.first_approved_at).where(t.c.name == CLOCK)
        ).first()
        if row is None:
            return cls()
        first = None if row.first_approved_at is None else utc(row.first_approved_at)
        return cls(utc(row.latest_at), first)

    def closed_by(self, at: datetime) -> list[str]:
        """The months an event at `at` closes: those from the latest event's month up
        to `at`'s, when the series has begun (an agreement was approved)."""
        if self.latest_at is None or self.first_approved_at is None:
            return []
        return list(months_from(month_of(self.latest_at), month_of(at)))

    def saw(self, at: datetime, approval: bool) -> None:
        if self.latest_at is None or at > self.latest_at:
            self.latest_at, self.changed = at, True
        if approval and (self.first_approved_at is None or at < self.first_approved_at):
            self.first_approved_at, self.changed = at, True

    def row(self) -> dict[str, Any]:
        return {
            "name": CLOCK,
            "latest_at": self.latest_at,
            "first_approved_at": self.first_approved_at,
        }


@dataclass(frozen=True)
class TeamFigures:
    """One team of active people now, as the tables say."""

    team: str
    running: int  # people with an agreement running
    members: int
    contracted: float  # their contracted hours per week
    development: float  # the development hours of their running agreements
    reviewed: int = 0  # people with an active agreement (with `today`)
    overdue: int = 0  # of them, those with one whose next review is before `today`


def team_figures(conn: Connection, rm: ReadModel, today: date | None = None) -> list[TeamFigures]:
    """Per team, one grouped select over the people and their running agreements (from
    the covering indexes); with `today`, the reviews' figures too (due dates compared
    with it at request time: 'today' is never stored)."""
    p, a = rm.people, rm.agreements
    active = a.c.status == str(AgreementStatus.ACTIVE)
    late = active if today is None else and_(active, a.c.next_review_on < today)
    running = (
        select(
            a.c.employee_id,
            func.sum(a.c.development_hours).label("hours"),
            func.max(case((active, 1), else_=0)).label("reviewed"),
            func.max(case((late, 1), else_=0)).label("overdue"),
        )
        .where(a.c.status.in_(RUNNING_STATUSES))
        .group_by(a.c.employee_id)
        .subquery()
    )
    rows = conn.execute(
        select(
            p.c.team_id,
            func.count(running.c.employee_id),
            func.count(),
            func.sum(p.c.contracted_hours_per_week),
            func.coalesce(func.sum(running.c.hours), 0.0),
            func.coalesce(func.sum(running.c.reviewed), 0),
            func.coalesce(func.sum(running.c.overdue), 0),
        )
        .select_from(p.outerjoin(running, running.c.employee_id == p.c.person_id))
        .where(p.c.active.is_(True), p.c.team_id.is_not(None))
        .group_by(p.c.team_id)
    )
    return [
        TeamFigures(str(t), int(y), int(m), float(c), float(h), int(r), int(o) if today else 0)
        for t, y, m, c, h, r, o in rows
    ]
