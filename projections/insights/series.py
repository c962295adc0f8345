"""The full computation's figures behind the monthly series of development time and
reviews: per team at each month's close (the last instant of each of the last 12
months; the current month: now), as the log says they were then.

The served tables get the same `TeamFigures` from the rows the projector keeps at each
month's close (projections.insights.series_kept); both are released by
`figures.series_tables`, each month on its own like `participationByMonth`
(docs/insights.md, "Two points in time one person apart"), so the two can only differ
in figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from projections.insights.months import TeamFigures
from projections.insights.replay import ACTIVE, Replay, Timeline


def from_replay(
    replay: Replay,
    months: Sequence[tuple[str, datetime]],
    teams_at: dict[datetime, dict[str, list[str]]],
) -> list[tuple[str, list[TeamFigures]]]:
    """Per month, each team's figures at its close, as the log says they were then:
    the members of that instant (`teams_at`), their contracted hours, and their
    agreements' status, development hours and next review replayed up to it."""
    agreements: dict[str, list[Timeline]] = defaultdict(list)
    for timeline in replay.timelines.values():
        agreements[timeline.employee_id].append(timeline)
    found = []
    for label, instant in months:
        day = instant.date()
        teams = []
        for team, members in sorted(teams_at[instant].items()):
            running = reviewed = overdue = 0
            contracted = development = 0.0
            for pid in members:
                contracted += replay.contracted_at(pid, instant)
                states = [s for t in agreements.get(pid, ()) if (s := t.at(instant)) is not None]
                states = [s for s in states if s.running]
                active = [s for s in states if s.status == ACTIVE]
                running += bool(states)
                development += sum(s.development_hours for s in states)
                reviewed += bool(active)
                overdue += any(
                    s.next_review_on is not None and s.next_review_on < day for s in active
                )
            teams.append(
                TeamFigures(team, running, len(members), contracted, development, reviewed, overdue)
            )
        found.append((label, teams))
    return found
