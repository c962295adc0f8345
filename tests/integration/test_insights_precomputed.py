"""The insight tables as served (projections.insights.precomputed, from what the
projector keeps) release exactly what the full computation from the log (figures.compute
over facts.read_facts) releases, every table of them: random organisations and histories
spread over months (outcomes recorded and reverted, reallocations, reviews, artifacts),
the projector run at random points (so months close inside batches and between them),
on both databases; and again after a rebuild. What the projector keeps for them
(insight_outcomes, insight_skills) equals a rebuild's (`crafting verify --read-models`),
holds no text of a target role or skill, and loses an erased person's hashes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from weakref import WeakKeyDictionary

import eventsourcing.domain
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event

from domain.agreement import outcomes as oc
from domain.application import commands as c
from domain.errors import DomainError, Forbidden
from domain.person import Profile
from domain.sealing import opened_in
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Role
from infra import audit
from infra.bootstrap import Container
from infra.followers.read_models import current_position
from projections import projector
from projections.insights.facts import read_facts, with_texts_opened
from projections.insights.figures import Insights, compute
from projections.insights.precomputed import read_precomputed
from projections.insights.series_kept import ClosedRows
from projections.name_index import NameIndex, index_key
from projections.queries import live_read_model
from tests.readmodel import snapshot
from tests.support import guardrails, request

TEAMS = ("red", "blue", "green")
HOURS = (0.5, 1.0, 2.0, 4.0)  # exact in binary: sums do not depend on their order
CONTRACTED = (40.0, 32.0, 20.0)
# How far the clock moves before a step: often within a month, sometimes across one
# or several (months without any event between them).
STEPS = st.sampled_from(
    [timedelta(0), timedelta(hours=5), timedelta(days=3), timedelta(days=17), timedelta(days=75)]
)
ACTION_NAMES = (
    ["approve"] * 4
    + ["move", "leave", "pause", "end", "erase"]
    + ["outcome", "outcome", "revert", "reallocate", "review", "artifact"]
    # the development hours' history: added, reverted (a revert reverted), revised
    + ["adjust", "adjust", "undo", "undo", "back", "revise"]
)
ACTIONS = st.sampled_from(ACTION_NAMES)
ROLES = ("Designer", "designer ", "Data analyst", "Staff  engineer")
SKILLS = ("research", "Research", "sql", "writing")
OUTCOMES = ("MOVED_TO_TARGET_ROLE", "PROMOTED_IN_PLACE", "SKILLS_DEMONSTRATED", "STOPPED")


class Clock:
    """The events' time: moved by the test, never backwards (across examples too)."""

    def __init__(self) -> None:
        self.now = datetime(2015, 1, 3, 9, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    made = Clock()
    monkeypatch.setattr(
        eventsourcing.domain.CanCreateTimestamp,
        "create_timestamp",
        staticmethod(lambda: made.now),
    )
    return made


@pytest.fixture
def projected(container: Container) -> Container:
    container.prepare()
    return container


@dataclass
class History:
    """One organisation's people and agreements, changed by random steps."""

    app: Any
    rng: random.Random
    clock: Any  # the events' time now
    suffix: str = field(default_factory=lambda: uuid4().hex[:8])
    agreements: list[tuple[Any, str]] = field(default_factory=list)
    done: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        s = self.suffix
        self.hr = request(f"hr-{s}", Role.HR)
        self.manager_id = f"mgr-{s}"
        self.manager = request(self.manager_id, Role.MANAGER, Role.EMPLOYEE)
        size = self.rng.randint(3, 9)
        self.people = [f"p{i}-{s}" for i in range(size)]
        self.teams = {pid: f"{self.rng.choice(TEAMS)}-{s[:2]}" for pid in self.people}
        self.active = dict.fromkeys(self.people, True)
        self.contracted = {pid: self.rng.choice(CONTRACTED) for pid in self.people}
        self._upsert([(self.manager_id, None, f"{TEAMS[0]}-{s[:2]}", 40.0, True)])
        for pid in self.people:
            self._push(pid)

    def _push(self, pid: str) -> None:
        self._upsert(
            [(pid, self.manager_id, self.teams[pid], self.contracted[pid], self.active[pid])]
        )

    def _upsert(self, people: list[tuple[str, str | None, str, float, bool]]) -> None:
        entries = [
            c.DirectoryEntry(pid, Profile(pid.title(), f"{pid}@example.com", mgr, team, h, on))
            for pid, mgr, team, h, on in people
        ]
        self.app.execute(self.hr, c.UpsertPeople(people=entries))

    def step(self, action: str) -> None:
        rng, pid = self.rng, self.rng.choice(self.people)
        running = [(a, who) for a, who in self.agreements if str(a) not in self.done]
        try:
            if action == "approve":
                self._approve(pid)
            elif action == "move":
                self.teams[pid] = f"{rng.choice(TEAMS)}-{self.suffix[:2]}"
                self.contracted[pid] = rng.choice(CONTRACTED)
                self._push(pid)
            elif action == "leave":  # leave, or come back
                self.active[pid] = not self.active[pid]
                self._push(pid)
            elif action == "pause" and running:
                aid, _ = rng.choice(running)
                command: Any = rng.choice([c.PauseAgreement, c.ResumeAgreement])
                self.app.execute(self.manager, command(agreement_id=aid))
            elif action == "end" and running:
                aid, _ = rng.choice(running)
                command = rng.choice([c.CompleteAgreement, c.WithdrawAgreement])
                self.app.execute(self.hr, command(agreement_id=aid, reason="Done"))
                self.done.add(str(aid))
            elif action == "erase" and not self.active[pid]:
                self.app.execute(self.hr, c.ErasePerson(person_id=pid, reason="Asked to"))
            elif action in ("outcome", "revert") and self.done:
                self._outcome(action, UUID(rng.choice(sorted(self.done))))
            elif action == "reallocate" and running:
                aid, who = rng.choice(running)
                self.app.execute(
                    self.manager,
                    c.ReallocateTask(
                        agreement_id=aid,
                        task="Triage",
                        hours_per_week=rng.choice(HOURS),
                        to_person_id=rng.choice([p for p in self.people if p != who]),
                        reason="Free time",
                    ),
                )
            elif action == "review" and running:
                aid, _ = rng.choice(running)
                self.app.execute(
                    self.manager,
                    c.RecordReview(
                        agreement_id=aid,
                        outcome="ON_TRACK",
                        held_on=self.clock().date(),
                        next_review_on=(self.clock() + timedelta(days=rng.randint(1, 40))).date(),
                    ),
                )
            elif action == "artifact" and running:
                aid, who = rng.choice(running)
                self.app.execute(
                    request(who, Role.EMPLOYEE),
                    c.RecordArtifact(
                        agreement_id=aid,
                        title="Brief",
                        kind="BRIEF",
                        skills=rng.sample(SKILLS, rng.randint(0, 2)),
                    ),
                )
            elif action in ("adjust", "undo", "back", "revise") and self.agreements:
                self._change_hours(action, rng.choice(self.agreements)[0])
        except (DomainError, Forbidden):
            pass  # refused (a rule of the domain): nothing recorded, as in real life

    def _change_hours(self, action: str, aid: Any) -> None:
        """Add an adjustment, revert a change in effect (an adjustment, a reverted
        one's revert, a reallocation, guardrails), go back a few versions, or revise a
        proposal (asked for changes first) and approve it."""
        rng = self.rng
        if action == "adjust":
            draft = AdjustmentDraft(AdjustmentKind.TASK, "Shadow a PM", rng.choice(HOURS))
            self.app.execute(self.manager, c.AddAdjustment(agreement_id=aid, adjustment=draft))
            return
        current = self.app.repository.get(aid)
        if action == "undo":
            heads = sorted(ch.id for ch in current.changes.values() if ch.in_effect)
            if heads:
                self.app.execute(
                    self.manager,
                    c.RevertChange(agreement_id=aid, change_id=rng.choice(heads), reason="Undo"),
                )
        elif action == "back":
            version = max(1, current.version - rng.randint(1, 3))
            self.app.execute(
                self.manager, c.RevertToVersion(agreement_id=aid, version=version, reason="Back")
            )
        else:
            self.app.execute(self.manager, c.RequestChanges(agreement_id=aid, reason="Detail"))
            drafts = [AdjustmentDraft(AdjustmentKind.TASK, "Demo", rng.choice(HOURS))]
            self.app.execute(
                request(current.employee_id, Role.EMPLOYEE),
                c.ReviseProposal(
                    agreement_id=aid,
                    title="Revised",
                    career_goal=CareerGoal(rng.choice(ROLES), ()),
                    adjustments=drafts,
                ),
            )
            self.app.execute(
                self.manager, c.ApproveAgreement(agreement_id=aid, guardrails=guardrails(8))
            )

    def _outcome(self, action: str, aid: UUID) -> None:
        """Record an outcome of an ended agreement (achieved up to 90 days before), or
        revert the one in effect."""
        if action == "revert":
            self.app.execute(
                self.manager, c.RevertOutcome(agreement_id=aid, reason="Recorded by mistake")
            )
            return
        achieved = self.clock() - timedelta(days=self.rng.randint(0, 90))
        self.app.execute(
            self.manager,
            c.RecordOutcome(
                agreement_id=aid,
                kind=self.rng.choice(OUTCOMES),
                achieved_on=achieved.date(),
                reason="Other plans",
            ),
        )

    def _approve(self, pid: str, always: bool = False) -> None:
        drafts = [
            AdjustmentDraft(AdjustmentKind.TASK, "Write one brief", self.rng.choice(HOURS))
            for _ in range(self.rng.randint(1, 2))
        ]
        proposed = self.app.execute(
            request(pid, Role.EMPLOYEE),
            c.ProposeAgreement(
                title="Growth",
                career_goal=CareerGoal(
                    self.rng.choice(ROLES), tuple(self.rng.sample(SKILLS, self.rng.randint(0, 2)))
                ),
                adjustments=drafts,
            ),
        )
        assert proposed.agreement is not None
        aid = proposed.agreement.id
        self.agreements.append((aid, pid))
        if always or self.rng.random() < 0.85:  # some stay proposed
            self.app.execute(
                self.manager, c.ApproveAgreement(agreement_id=aid, guardrails=guardrails(8))
            )


# The closed months' rows each database's served answers read before, as the service
# keeps them between computations (infra.kept_insights): kept across the examples and
# steps of a test, so a closed month's rows that changed would show as a difference.
_CLOSED: WeakKeyDictionary[Engine, ClosedRows] = WeakKeyDictionary()


def released(projected: Container, minimum: int, now: datetime) -> tuple[Insights, Insights]:
    """The full computation's tables from the log, and every table as the insights
    query serves them (from what the projector keeps), sealed texts opened alike."""
    keys = projected.keys
    closed = _CLOSED.setdefault(projected.engines.reader, {})
    with projected.engines.reader.connect() as conn, keys.reading_on(conn):
        rm = live_read_model(conn)
        facts = with_texts_opened(read_facts(conn, rm), lambda texts: opened_in(texts, keys))
        served = read_precomputed(
            conn, rm, minimum, now, lambda texts: opened_in(texts, keys), closed
        )
    return compute(facts, minimum, now), served


def kept_equal_a_rebuild(projected: Container) -> list[audit.Difference]:
    """`crafting verify --read-models` (with the service's name index, so the kept
    hashes are compared): the live tables against a rebuild of the events."""
    keys = projected.keys
    return audit.verify_read_models(
        projected.engines.writer,
        projected.app.recorder,
        projected.app.tagging_mapper.keeping_sealed(),
        current_position,
        wait_seconds=0,
        names=NameIndex(index_key(keys.store.master_key), keys.open),
    ).differences


def assert_same(full: Insights, served: Insights) -> None:
    for name in (f.name for f in fields(Insights)):
        assert getattr(served, name) == getattr(full, name), name
    assert served == full


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.lists(st.tuples(STEPS, ACTIONS, st.booleans()), min_size=1, max_size=40),
    after=STEPS,
    # 0 releases every figure as computed (nothing is below it): the counts themselves
    # are compared, not only what suppression leaves of them.
    minimum=st.sampled_from([0, 0, 2, 3]),
)
def test_the_precomputed_tables_release_what_the_full_computation_releases(
    projected: Container,
    clock: Clock,
    seed: int,
    steps: list[tuple[timedelta, str, bool]],
    after: timedelta,
    minimum: int,
) -> None:
    # One database for every example: each adds an organisation to the ones before, so
    # the tables compared grow over several teams and years.
    runner = projected.projector
    runner.batch_size = random.Random(seed).choice([3, 7, 1000])
    history = History(projected.app, random.Random(seed), lambda: clock.now)
    for moved, action, project in steps:
        clock.now += moved
        history.step(action)
        if project:  # the projector catches up now and then, mid-history
            runner.run_once()
    runner.catch_up()
    now = clock.now + after  # months after the log's latest event are today's
    clock.now = now
    assert_same(*released(projected, minimum, now))
    assert kept_equal_a_rebuild(projected) == []


def test_closed_months_are_read_once_and_a_rebuild_reads_them_again(
    projected: Container, clock: Clock
) -> None:
    """The service keeps the closed months' rows between computations (they never
    change within a generation): a second computation reads none of them, and after a
    rebuild (a new generation) they are read again; the tables stay the full
    computation's."""
    runner = projected.projector
    history = History(projected.app, random.Random(11), lambda: clock.now)
    for n in range(24):
        clock.now += timedelta(days=25)
        history.step(["approve", "move", "outcome"][n % 3])
    runner.catch_up()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    reader = projected.engines.reader
    event.listen(reader, "before_cursor_execute", seen)
    try:
        reads = []
        for rebuild in (False, False, True):
            if rebuild:
                projected.rebuild()
            statements.clear()
            assert_same(*released(projected, 2, clock.now))
            reads.append(sum("insight_months" in s for s in statements))
    finally:
        event.remove(reader, "before_cursor_execute", seen)
    assert reads[0] >= 1 and reads[1] == 0 and reads[2] >= 1, reads


def test_a_rebuild_keeps_the_same_months_and_figures(projected: Container, clock: Clock) -> None:
    runner = projected.projector
    runner.batch_size = 5
    history = History(projected.app, random.Random(30), lambda: clock.now)
    for n in range(60):
        clock.now += timedelta(days=(n * 7) % 23)
        history.step(
            ["approve", "approve", "move", "leave", "pause", "end", "erase", "outcome"][n % 8]
        )
        if n % 4 == 0:
            runner.run_once()
    runner.catch_up()
    before = snapshot(projected.engines.reader)
    assert len({r["month"] for r in before["insight_months"]}) >= 12
    assert_same(*released(projected, 2, clock.now))
    runner.batch_size = 1000
    projected.rebuild()
    after = snapshot(projected.engines.reader)
    for kept in ("insight_months", "insight_clock", "insight_outcomes", "insight_skills"):
        assert after[kept] == before[kept], kept
    assert before["insight_outcomes"] and before["insight_skills"]
    assert_same(*released(projected, 2, clock.now))


def test_an_outcome_counts_in_the_team_of_the_day_it_was_achieved(
    projected: Container, clock: Clock
) -> None:
    """Recorded after the person moved or left: the team is the one of the day it was
    achieved (none for a leaver, then today's, none either: not counted by team)."""
    history = History(projected.app, random.Random(7), lambda: clock.now)
    leaver, mover = history.people[:2]
    for pid in (leaver, mover):
        history._approve(pid, always=True)
    clock.now += timedelta(days=10)
    for aid, _ in history.agreements:
        history.app.execute(history.hr, c.CompleteAgreement(agreement_id=aid, reason="Done"))
    before_the_move = clock.now
    clock.now += timedelta(days=3)
    history.active[leaver] = False
    history._push(leaver)
    achieved_in = history.teams[mover]
    history.teams[mover] = f"elsewhere-{history.suffix[:2]}"
    history._push(mover)
    clock.now += timedelta(days=2)
    while_gone = clock.now
    clock.now += timedelta(days=5)
    for (aid, _), on in zip(history.agreements, (while_gone, before_the_move), strict=True):
        history.app.execute(
            history.manager,
            c.RecordOutcome(
                agreement_id=aid, kind="MOVED_TO_TARGET_ROLE", achieved_on=on.date(), reason="x"
            ),
        )
    projected.projector.catch_up()
    full, served = released(projected, 0, clock.now)
    assert [(r.group, r.counts) for r in full.outcomes_by_team.rows] == [(achieved_in, (1, 0))]
    assert full.outcomes_by_target_role.total is not None
    assert full.outcomes_by_target_role.total.counts == (2, 0)  # the leaver too
    assert_same(full, served)


def _ended_with_outcome(projected: Container, clock: Clock) -> History:
    """Two people with evidence of two skills, whose agreements ended with an outcome,
    projected."""
    history = History(projected.app, random.Random(11), lambda: clock.now)
    for pid in history.people[:2]:
        history._approve(pid, always=True)
    for aid, pid in history.agreements:
        history.app.execute(
            request(pid, Role.EMPLOYEE),
            c.RecordArtifact(
                agreement_id=aid, title="Brief", kind="BRIEF", skills=["research", "sql"]
            ),
        )
        history.app.execute(history.hr, c.CompleteAgreement(agreement_id=aid, reason="Done"))
        history._outcome("outcome", aid)
    projected.projector.catch_up()
    return history


def test_a_projector_forgetting_an_outcome_revert_in_the_kept_rows_is_caught(
    projected: Container, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revert is applied to `outcomes` but the person's kept row is not recomputed:
    the served tables then differ from the full computation's, and verify names it."""
    history = _ended_with_outcome(projected, clock)

    def forgetful(self: projector.BatchProjector, row: Any, event: Any, position: int) -> None:
        projector.BatchProjector.revert_outcome(self, row, event, position)
        self.outcome_agreements.pop(row["agreement_id"])

    monkeypatch.setitem(projector._HANDLERS, oc.OutcomeReverted, forgetful)
    aid, _ = history.agreements[0]
    history._outcome("revert", aid)
    projected.projector.catch_up()
    full, served = released(projected, 0, clock.now)
    with pytest.raises(AssertionError):
        assert_same(full, served)
    assert {(d.table, d.kind) for d in kept_equal_a_rebuild(projected)} == {
        ("insight_outcomes", "EXTRA")
    }


def test_the_kept_rows_hold_no_text_and_lose_an_erased_persons_hashes(
    projected: Container, clock: Clock
) -> None:
    history = _ended_with_outcome(projected, clock)
    leaver = history.agreements[0][1]
    kept = snapshot(projected.engines.reader)
    texts = {*(r.casefold() for r in ROLES), *(s.casefold() for s in SKILLS)}
    for table in ("insight_outcomes", "insight_skills"):
        for row in kept[table]:
            for value in row.values():
                assert not (isinstance(value, str) and value.strip().casefold() in texts), table
    mine = [r for r in kept["insight_skills"] if r["person_id"] == leaver]
    role = [r for r in kept["insight_outcomes"] if r["person_id"] == leaver]
    assert role and role[0]["role_key"] is not None
    history.active[leaver] = False
    history._push(leaver)
    projected.projector.catch_up()  # then the erasure alone reaches their kept rows
    history.app.execute(history.hr, c.ErasePerson(person_id=leaver, reason="Asked to"))
    projected.projector.catch_up()
    kept = snapshot(projected.engines.reader)
    assert next(r for r in kept["insight_outcomes"] if r["person_id"] == leaver)["role_key"] is None
    erased = [r for r in kept["insight_skills"] if r["person_id"] == leaver]
    assert len(erased) == len(mine)
    assert all(r["skill_key"] is None and r["spelling"] is None for r in erased)
    assert_same(*released(projected, 0, clock.now))
    assert kept_equal_a_rebuild(projected) == []


@pytest.mark.parametrize("seed", [11, 12])
def test_long_histories_give_the_same_monthly_series_served_full_and_rebuilt(
    projected: Container, clock: Clock, seed: int
) -> None:
    """Development time and reviews by month over a long history (hours added and
    reverted, reviews falling due inside months, moves, leavers, erasures), the
    projector run at random points, then rebuilt: served, full and rebuilt agree, and
    the series say something (hours change between months, reviews are overdue)."""
    rng = random.Random(seed)
    runner = projected.projector
    runner.batch_size = rng.choice([3, 7])
    history = History(projected.app, rng, lambda: clock.now)
    for pid in history.people:
        history._approve(pid, always=True)
    for _ in range(160):
        clock.now += rng.choice([timedelta(hours=7), timedelta(days=4), timedelta(days=19)])
        history.step(rng.choice([*ACTION_NAMES, "review", "review"]))
        if rng.random() < 0.2:
            runner.run_once()
    runner.catch_up()
    full, served = released(projected, 0, clock.now)
    assert_same(full, served)
    measures = {r.measure for m in full.development_time_by_month for r in m.table.rows}
    assert len(measures) > 3
    assert any(r.counts and r.counts[0] for m in full.reviews_by_month for r in m.table.rows)
    before = snapshot(projected.engines.reader)["insight_months"]
    runner.batch_size = 1000
    projected.rebuild()
    assert snapshot(projected.engines.reader)["insight_months"] == before
    assert_same(*released(projected, 2, clock.now))


def test_outcomes_by_month_count_each_person_in_the_month_their_outcome_was_achieved(
    projected: Container, clock: Clock
) -> None:
    """Served from the kept rows (their achievedOn), as the full computation counts
    them from the log: each person in the month their latest outcome was achieved, one
    achieved before the listed months in none; again after a rebuild."""
    clock.now = datetime(2026, 5, 10, 12, tzinfo=UTC)
    history = History(projected.app, random.Random(5), lambda: clock.now)
    people = history.people[:3]
    for pid in people:
        history._approve(pid, always=True)
    clock.now += timedelta(days=1)
    for aid, _ in history.agreements:
        history.app.execute(history.hr, c.CompleteAgreement(agreement_id=aid, reason="Done"))
    achieved = [date(2026, 6, 2), date(2026, 5, 25), date(2026, 4, 30)]
    clock.now = datetime(2026, 6, 3, 9, tzinfo=UTC)
    for (aid, _), on in zip(history.agreements, achieved, strict=True):
        history.app.execute(
            history.manager,
            c.RecordOutcome(agreement_id=aid, kind="PROMOTED_IN_PLACE", achieved_on=on),
        )
    projected.projector.catch_up()
    full, served = released(projected, 0, clock.now)
    assert_same(full, served)
    months = {m.month: m.table for m in full.outcomes_by_month}
    assert list(months) == ["2026-05", "2026-06"]  # the series starts at the first approval
    counted: dict[tuple[str, str], tuple[int, int]] = {}
    for month, table in months.items():
        for row in table.rows:
            if row.counts and sum(row.counts):
                key = (month, row.group)
                counted[key] = (counted.get(key, (0, 0))[0] + row.counts[0], 0)
    teams = [history.teams[pid] for pid in people]
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    for key in (("2026-06", teams[0]), ("2026-05", teams[1])):  # April's: before them
        expected[key] = (expected.get(key, (0, 0))[0] + 1, 0)
    assert counted == expected
    total = full.outcomes_by_team.total
    assert total is not None and total.counts == (3, 0)
    projected.rebuild()
    assert_same(*released(projected, 0, clock.now))
