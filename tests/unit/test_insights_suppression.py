"""Minimum group size with complementary suppression (projections.insights): random
organisations against an attacker who knows every team's headcount and solves the
released tables exhaustively, and the differencing attacks (totals, overlapping tables, two moments) one by one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.insights.facts import AgreementFacts, Facts, Membership
from projections.insights.figures import Table, compute, release
from projections.insights.suppression import Counts, suppress

START = datetime(2026, 1, 1, tzinfo=UTC)


def feasible(rows: Mapping[str, Counts], table: Table) -> dict[str, set[int]]:
    """Every value each withheld row's first count can take, given what an attacker
    knows: each row's headcount (public), every released row and the totals. Exhaustive
    over the withheld rows (a subset-sum over all their possible values)."""
    hidden = [r.group for r in table.rows if r.counts is None]
    heads = {g: sum(rows[g]) for g in rows}
    if table.total is None:
        return {g: set(range(heads[g] + 1)) for g in hidden}
    shown = sum(r.counts[0] for r in table.rows if r.counts is not None)
    rest = table.total.counts[0] - shown  # type: ignore[union-attr]
    values = {}
    for group in hidden:
        others = [g for g in hidden if g != group]
        sums = {0}
        for g in others:
            sums = {s + x for s in sums for x in range(heads[g] + 1)}
        values[group] = {v for v in range(heads[group] + 1) if rest - v in sums}
    return values


def assert_nobody_pinned(rows: Mapping[str, Counts], table: Table, minimum: int) -> None:
    for row in table.rows:
        if row.counts is not None:
            assert min(row.counts) >= minimum, row
    if table.total is not None:
        assert min(table.total.counts or (0, 0)) >= minimum
    for group, values in feasible(rows, table).items():
        assert rows[group][0] in values  # the attacker's model is right...
        assert len(values) >= 2, f"{group} is pinned to {values}"  # ...and not enough


organisations = st.dictionaries(
    st.sampled_from([f"team-{i}" for i in range(6)]),
    st.integers(1, 9).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    min_size=1,
).map(lambda teams: {t: (yes, n - yes) for t, (yes, n) in teams.items()})


@settings(max_examples=300, deadline=None)
@given(organisations, st.integers(1, 6))
def test_no_released_table_lets_an_attacker_pin_a_group_below_the_minimum(
    rows: dict[str, Counts], minimum: int
) -> None:
    assert_nobody_pinned(rows, release(rows, minimum), minimum)


@settings(max_examples=200, deadline=None)
@given(organisations, st.integers(1, 6), st.data())
def test_one_person_moving_between_two_releases_pins_nobody(
    rows: dict[str, Counts], minimum: int, data: st.DataObject
) -> None:
    """Two points in time one person apart: each release is solved on its own, since
    no figure ties one instant's counts to another's."""
    team = data.draw(st.sampled_from(sorted(rows)))
    yes, no = rows[team]
    later = dict(rows)
    later[team] = (yes - 1, no + 1) if yes > 0 else (yes + 1, no - 1) if no > 0 else (yes, no)
    for state in (rows, later):
        assert_nobody_pinned(state, release(state, minimum), minimum)


def test_the_total_cannot_give_away_a_single_small_team() -> None:
    rows = {"a": (2, 6), "b": (6, 7), "c": (9, 9)}
    table = release(rows, 5)
    hidden = {r.group for r in table.rows if r.counts is None}
    assert hidden == {"a", "b"}  # b withheld too, else total minus b and c gives a
    assert table.total is not None and table.total.counts == (17, 22)
    assert feasible(rows, table)["a"] == set(range(0, 9))


def test_zero_and_everyone_are_suppressed_like_small_counts() -> None:
    hidden = suppress({"a": (0, 9), "b": (9, 0), "c": (6, 6), "d": (7, 7)}, 5)
    assert hidden.primary == {"a", "b"}


def test_a_table_that_cannot_be_covered_withholds_its_totals() -> None:
    table = release({"a": (1, 9), "b": (2, 9)}, 5)
    assert table.total is None
    assert all(r.counts is None for r in table.rows)


def test_the_pattern_is_the_same_for_the_same_data() -> None:
    rows = {"a": (2, 6), "b": (6, 7), "c": (6, 7), "d": (9, 9)}
    assert release(rows, 5) == release(dict(reversed(rows.items())), 5)


# --- the figures, from facts ----------------------------------------------------


def _facts(teams: dict[str, int], participating: dict[str, int]) -> Facts:
    memberships: dict[str, list[Membership]] = {}
    agreements = []
    for team, size in teams.items():
        for i in range(size):
            pid = f"{team}-{i}"
            memberships[pid] = [Membership(START, team, True)]
            if i < participating.get(team, 0):
                agreements.append(
                    AgreementFacts(
                        f"agr-{pid}",
                        pid,
                        "ACTIVE",
                        "Product manager",
                        2.0,
                        date(2026, 6, 1),
                        approved_at=START + timedelta(days=1),
                    )
                )
    return Facts(memberships, {p: 40.0 for p in memberships}, agreements, [])


def test_one_person_leaving_a_team_between_two_queries_does_not_reveal_the_team() -> None:
    facts = _facts({"qa": 10, "web": 12, "ops": 14}, {"qa": 5, "web": 6, "ops": 7})
    now = datetime(2026, 3, 10, tzinfo=UTC)
    before = compute(facts, 5, now).participation
    assert all(r.counts is not None for r in before.rows)
    # One of qa's participants leaves the company: qa has 4 of 9 left.
    facts.memberships["qa-0"].append(Membership(now + timedelta(hours=1), "qa", False))
    after = compute(facts, 5, now + timedelta(hours=2)).participation
    rows = {"qa": (4, 5), "web": (6, 6), "ops": (7, 7)}
    hidden = {r.group for r in after.rows if r.counts is None}
    assert hidden == {"qa", "web"}  # the complement: the total minus ops is qa plus web
    assert_nobody_pinned(rows, after, 5)


def test_a_closed_month_never_changes_when_later_events_arrive() -> None:
    facts = _facts({"qa": 10, "web": 12}, {"qa": 5, "web": 6})
    march = compute(facts, 5, datetime(2026, 4, 2, tzinfo=UTC)).participation_by_month
    facts.memberships["qa-0"].append(Membership(datetime(2026, 4, 3, tzinfo=UTC), "qa", False))
    later = compute(facts, 5, datetime(2026, 4, 5, tzinfo=UTC)).participation_by_month
    assert [m for m in march if m.month == "2026-03"] == [m for m in later if m.month == "2026-03"]
    assert march[-1] != later[-1]  # April, the month running, follows the change


def test_a_team_and_a_target_role_one_person_apart_are_not_both_released() -> None:
    """Differencing two overlapping tables: a team of 11 of whom 10 target 'Designer'
    and one 'Engineer' (with the other team). Both roles and both teams reach the
    minimum, but team minus role would tell that one person's outcome, so the roles
    are withheld."""
    memberships = {f"p{i}": [Membership(START, "design", True)] for i in range(11)}
    memberships |= {f"q{i}": [Membership(START, "ops", True)] for i in range(10)}
    agreements = []
    for pid in memberships:
        role = "Engineer" if pid.startswith("q") or pid == "p10" else "Designer"
        kind = "PROMOTED_IN_PLACE" if pid[1:] in ("0", "1", "2", "3", "4", "10") else "STOPPED"
        agreement = AgreementFacts(
            f"agr-{pid}",
            pid,
            "COMPLETED",
            role,
            2.0,
            None,
            approved_at=START,
            ended_at=START + timedelta(days=90),
        )
        agreement.outcomes.append(("o-" + pid, kind, date(2026, 4, 1)))
        agreements.append(agreement)
    facts = Facts(memberships, {p: 40.0 for p in memberships}, agreements, [])
    insights = compute(facts, 5, datetime(2026, 5, 1, tzinfo=UTC))
    team = {r.group: r.counts for r in insights.outcomes_by_team.rows}
    assert team == {"design": (6, 5), "ops": (5, 5)}
    roles = {r.group: r.counts for r in insights.outcomes_by_target_role.rows}
    assert roles == {"Other target roles": None}
    assert insights.outcomes_by_target_role.total is not None  # the total is the teams'


def test_erased_people_count_but_their_target_role_is_never_shown() -> None:
    facts = _facts({"qa": 12}, {"qa": 0})
    for i in range(12):
        role = "[erased]" if i < 6 else "Product manager"
        agreement = AgreementFacts(
            f"o-{i}",
            f"qa-{i}",
            "COMPLETED",
            role,
            1.0,
            None,
            approved_at=START,
            ended_at=START + timedelta(days=30),
        )
        agreement.outcomes.append(
            (f"x{i}", "MOVED_TO_TARGET_ROLE" if i % 2 else "STOPPED", date(2026, 2, 1))
        )
        facts.agreements.append(agreement)
    insights = compute(facts, 3, datetime(2026, 3, 1, tzinfo=UTC))
    assert insights.outcomes_by_team.rows[0].counts == (6, 6)  # erased ones counted
    groups = [r.group for r in insights.outcomes_by_target_role.rows]
    assert "[erased]" not in groups and "" not in groups


def test_skills_are_listed_when_enough_people_name_them_and_rare_ones_never_by_name() -> None:
    facts = _facts({"qa": 12}, {"qa": 12})
    for i, agreement in enumerate(facts.agreements):
        agreement.skills = ["Roadmapping"] + (["Underwater welding"] if i == 0 else [])
        if i >= 9:
            agreement.skills.append("[erased]")
    facts.evidence = [(f"qa-{i}", ["customer research "]) for i in range(6)]
    insights = compute(facts, 3, datetime(2026, 3, 1, tzinfo=UTC))
    targeted = {r.group: r.counts for r in insights.skills_targeted.rows}
    # Everyone names roadmapping: 12 of 12 tells each person's goal, so it is withheld;
    # one person's rare skill and the erased people's unreadable ones are never named.
    assert targeted == {"Other skills": None}
    assert insights.skills_targeted.total is None
    evidenced = {r.group: r.counts for r in insights.skills_evidenced.rows}
    assert evidenced == {"customer research": (6, 6)}
