"""The monthly series of development time and reviews (projections.insights.replay,
series, figures.series_tables): what the log says an agreement's hours and next review
were at each month's close, and the suppression of each month on its own, against an
attacker who differences two months one person apart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from api.web.insights import monthly, monthly_teams
from projections.insights.facts import AgreementFacts, Facts, Membership
from projections.insights.figures import (
    Insights,
    Month,
    ReleasedRow,
    Table,
    compute,
    development_table,
    reviews_table,
)
from projections.insights.months import TeamFigures
from projections.insights.replay import Replay
from tests.unit.test_insights_suppression import assert_nobody_pinned

START = datetime(2026, 1, 5, tzinfo=UTC)
MARCH_END = datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _adjustment(n: int, hours: float) -> dict[str, Any]:
    return {"id": f"adj-{n}", "changeId": f"chg-{n}", "hoursPerWeek": hours, "status": "ACTIVE"}


def test_development_hours_are_replayed_through_reverts_and_a_revert_reverted() -> None:
    replay = Replay()
    events: list[tuple[str, dict[str, Any]]] = [
        ("Proposed", {"adjustments": [_adjustment(1, 2.0)]}),
        ("Approved", {"nextReviewOn": "2026-02-01"}),
        ("AdjustmentAdded", {"adjustment": _adjustment(2, 4.0)}),
        ("ChangeReverted", {"changeId": "chg-3", "revertedChangeId": "chg-2"}),
        ("ChangeReverted", {"changeId": "chg-4", "revertedChangeId": "chg-3"}),  # re-applied
        ("ChangeReverted", {"changeId": "chg-5", "revertedChangeId": "guardrails"}),
        ("ReviewRecorded", {"review": {"nextReviewOn": "2026-03-01"}}),
        ("Paused", {}),
        ("Completed", {}),
    ]
    for day, (kind, payload) in enumerate(events):
        replay.apply("a", "sam", kind, START + timedelta(days=day), payload)
    timeline = replay.timelines["a"]
    seen = [timeline.at(START + timedelta(days=day, hours=1)) for day in range(len(events))]
    assert [s.development_hours for s in seen if s] == [2, 2, 6, 2, 6, 6, 6, 6, 6]
    assert [s.status for s in seen if s][:3] == ["PROPOSED", "ACTIVE", "ACTIVE"]
    assert [s.status for s in seen if s][-2:] == ["PAUSED", "COMPLETED"]
    assert [s.next_review_on for s in seen if s][5:7] == [date(2026, 2, 1), date(2026, 3, 1)]
    assert timeline.at(START - timedelta(seconds=1)) is None


def _organisation(teams: dict[str, int], overdue: dict[str, int]) -> Facts:
    """Every member with an active agreement of 4 hours out of 40, approved at START;
    `overdue` of each team next reviewed on 15 March (overdue at March's close), the
    rest on 1 June."""
    memberships: dict[str, list[Membership]] = {}
    agreements = []
    replay = Replay()
    for team, size in teams.items():
        for i in range(size):
            pid = f"{team}-{i}"
            memberships[pid] = [Membership(START, team, True)]
            replay.profile(pid, START, {"contractedHoursPerWeek": 40.0})
            due = "2026-03-15" if i < overdue.get(team, 0) else "2026-06-01"
            aid = f"agr-{pid}"
            replay.apply(aid, pid, "Proposed", START, {"adjustments": [_adjustment(i, 4.0)]})
            replay.apply(aid, pid, "Approved", START, {"nextReviewOn": due})
            agreements.append(
                AgreementFacts(
                    aid, pid, "ACTIVE", "PM", 4.0, date.fromisoformat(due), approved_at=START
                )
            )
    return Facts(memberships, {p: 40.0 for p in memberships}, agreements, [], replay=replay)


def test_a_month_closes_with_the_reviews_and_hours_of_its_last_instant() -> None:
    facts = _organisation({"qa": 10, "web": 12}, {"qa": 5, "web": 6})
    # In April, one of qa's agreements loses its hours (a revert) and is reviewed.
    april = datetime(2026, 4, 2, tzinfo=UTC)
    facts.replay.apply(
        "agr-qa-0", "qa-0", "ChangeReverted", april, {"changeId": "x", "revertedChangeId": "chg-0"}
    )
    facts.replay.apply(
        "agr-qa-0", "qa-0", "ReviewRecorded", april, {"review": {"nextReviewOn": "2026-05-01"}}
    )
    insights = compute(facts, 0, datetime(2026, 4, 3, tzinfo=UTC))  # every figure shown
    months = {m.month: m.table for m in insights.development_time_by_month}
    assert [r.measure for r in months["2026-03"].rows] == [10.0, 10.0]
    assert [r.measure for r in months["2026-04"].rows] == [9.0, 10.0]  # qa: 36 of 400 h
    reviews = {m.month: m.table for m in insights.reviews_by_month}
    assert [r.counts for r in reviews["2026-02"].rows] == [(0, 10), (0, 12)]  # none due yet
    assert [r.counts for r in reviews["2026-03"].rows] == [(5, 5), (6, 6)]
    assert [r.counts for r in reviews["2026-04"].rows] == [(4, 6), (6, 6)]


def test_two_months_one_overdue_review_apart_pin_nobody() -> None:
    """Differencing two points in time: in March qa has 5 of 10 overdue, in April one of
    them has been reviewed (4 of 10). April's qa is withheld with its complement, and
    an attacker who holds both months still cannot tell qa's April count."""
    facts = _organisation({"qa": 10, "web": 12, "ops": 14}, {"qa": 5, "web": 6, "ops": 7})
    april = datetime(2026, 4, 2, tzinfo=UTC)
    facts.replay.apply(
        "agr-qa-0", "qa-0", "ReviewRecorded", april, {"review": {"nextReviewOn": "2026-06-01"}}
    )
    # The other teams' overdue reviews stay overdue in April (next review 15 March).
    months = {m.month: m.table for m in compute(facts, 5, april).reviews_by_month}
    march, now = months["2026-03"], months["2026-04"]
    assert all(r.counts is not None for r in march.rows)
    assert {r.group for r in now.rows if r.counts is None} == {"qa", "web"}
    assert_nobody_pinned({"qa": (4, 6), "web": (6, 6), "ops": (7, 7)}, now, 5)


team_figures = st.dictionaries(
    st.sampled_from([f"team-{i}" for i in range(5)]),
    st.integers(1, 9).flatmap(
        lambda n: st.tuples(st.integers(0, n), st.just(n), st.integers(0, n))
    ),
    min_size=1,
)


@settings(max_examples=200, deadline=None)
@given(team_figures, st.integers(1, 6), st.data())
def test_the_series_of_two_months_one_person_apart_pin_nobody(
    teams: dict[str, tuple[int, int, int]], minimum: int, data: st.DataObject
) -> None:
    """A month's development time and reviews, and the next month's with one person
    changed (joined, overdue, or started an agreement): each released on its own pins
    no group below the minimum."""
    month = [
        TeamFigures(t, yes, n, 40.0 * n, 4.0 * yes, n, overdue)
        for t, (yes, n, overdue) in sorted(teams.items())
    ]
    team = data.draw(st.sampled_from(sorted(teams)))
    change = data.draw(st.sampled_from(["running", "overdue", "member"]))
    following = []
    for f in month:
        if f.team == team and change == "running" and f.running < f.members:
            f = TeamFigures(
                f.team,
                f.running + 1,
                f.members,
                f.contracted,
                4.0 * (f.running + 1),
                f.reviewed,
                f.overdue,
            )
        elif f.team == team and change == "overdue" and f.overdue < f.reviewed:
            f = TeamFigures(
                f.team, f.running, f.members, f.contracted, f.development, f.reviewed, f.overdue + 1
            )
        elif f.team == team and change == "member":
            f = TeamFigures(
                f.team,
                f.running,
                f.members + 1,
                f.contracted + 40,
                f.development,
                f.reviewed + 1,
                f.overdue,
            )
        following.append(f)
    for figures in (month, following):
        development = {f.team: (f.running, f.members - f.running) for f in figures}
        assert_nobody_pinned(development, development_table(figures, minimum), minimum)
        reviews = {f.team: (f.overdue, f.reviewed - f.overdue) for f in figures}
        assert_nobody_pinned(reviews, reviews_table(figures, minimum), minimum)


def test_the_page_says_withheld_only_for_withheld_cells() -> None:
    """A team released without a value (no contracted hours) reads "—", not "withheld"."""
    released = Table(
        (
            ReleasedRow("qa", (5, 5), None),
            ReleasedRow("web", None),
            ReleasedRow("ops", (6, 6), 12.5),
        ),
        ReleasedRow("All", (16, 17), 8.0),
    )
    empty = Table((), None)
    found = Insights(
        5,
        datetime(2026, 4, 2, tzinfo=UTC),
        empty,
        (),
        empty,
        empty,
        empty,
        empty,
        empty,
        empty,
        development_time_by_month=(Month("2026-04", released),),
    )
    (development,) = [s for s in monthly(found, monthly_teams(found)) if s.teams]
    assert development.teams == [("ops", ["12.5 %"]), ("qa", ["—"]), ("web", ["withheld"])]
    assert development.total_cells == ["8 %"] and development.totals == [8.0]
