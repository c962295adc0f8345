"""A year of a large organisation's log, made with the real aggregates: a directory of
`people` in teams of 5-40 (some joining during the year, some moving team), and
`agreements` growth plans proposed over the year, approved by the team's manager,
reviewed every few weeks, with artifacts, reallocations booked in the hours ledgers,
ends (completed or withdrawn) and outcomes, and a few erasures at the end. Each
agreement's timeline is planned first; the actions then run in time order, each event
timestamped with its simulated instant (the insights count by the events' times), so
the log's times follow its order as the service's do.

Yields the events of one action at a time (bench.seeding's `stored_chunks` maps and
inserts them as the service stores them). The keys of erased people are destroyed by
the caller once everything is sealed (`erased`), as `ErasePerson` destroys them."""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import eventsourcing.domain as library
from eventsourcing.domain import Aggregate

from domain.agreement import Agreement
from domain.agreement.outcomes import NEEDS_REASON, OutcomeKind
from domain.errors import DomainError
from domain.ledger import HoursLedger, Side
from domain.metadata import Meta
from domain.person import Person, Profile
from domain.values import (
    AdjustmentDraft,
    AdjustmentKind,
    ArtifactKind,
    CareerGoal,
    Guardrails,
    ReviewOutcome,
)

ROLES = ("Product manager", "Staff engineer", "Designer", "Data analyst", "Team lead")
SKILLS = ("customer research", "roadmapping", "sql", "mentoring", "facilitation", "writing")
TASKS = ("on-call", "release notes", "triage", "sprint demo", "hiring loop")
MAX_RECEIVED = 4.0  # the application's default limit of hours received per week
DAY = 86_400.0

# Action codes (ints: a million planned actions stay small).
JOIN, MOVE, PROPOSE, APPROVE, REJECT, REVIEW, ARTIFACT, REALLOCATE, END, OUTCOME, ERASE = range(11)


def year_ending(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The simulated year: the 365 days before today's start (UTC), so every event is
    in the past of any request made today or later."""
    today = (now or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=365), today - timedelta(minutes=1)


class Organisation:
    """Yields the events of one action at a time, in time order (see the module)."""

    def __init__(
        self,
        rng: random.Random,
        people: int = 100_000,
        live: int = 0,  # unused: every agreement's timeline is planned up front
        agreements: int | None = None,
        erasures: int | None = None,
    ) -> None:
        self.rng = rng
        self.start, self.end = year_ending()
        self.agreements_wanted = people * 6 // 5 if agreements is None else agreements
        self.erasures_wanted = max(1, people // 200) if erasures is None else erasures
        self.persons: dict[str, Person] = {}
        self.ledgers: dict[str, HoursLedger] = {}
        self.team_of: dict[str, int] = {}
        self.members: list[list[str]] = []  # per team, its people (the first manages it)
        self.made: list[Agreement | None] = []
        self.clock = self.start
        self.proposed = 0
        self.erased: list[str] = []
        self._plan: list[tuple[float, int, int, int]] = []
        self._people = people

    # --- the stream ---------------------------------------------------------------

    def commands(self) -> Iterator[list[Any]]:
        """Every action's events, oldest first; the events carry the action's time."""
        yield from self._directory()
        self._plan_agreements()
        heapq.heapify(self._plan)
        patched = library.datetime_now_with_tzinfo
        library.datetime_now_with_tzinfo = lambda: self.clock  # the simulated instant
        try:
            while self._plan:
                at, _, action, subject = heapq.heappop(self._plan)
                self.clock = self.start + timedelta(seconds=at)
                events = self._act(action, subject)
                if events:
                    yield events
        finally:
            library.datetime_now_with_tzinfo = patched

    def _directory(self) -> Iterator[list[Any]]:
        """Everyone registered a year ago or earlier, but a tenth joining during the year
        (their registration planned at its time); a tenth moving team during the year."""
        rng, n, team = self.rng, 0, 0
        hr = _meta("hr-bench", "HR")
        patched = library.datetime_now_with_tzinfo
        library.datetime_now_with_tzinfo = lambda: self.clock
        try:
            batch: list[Any] = []
            while n < self._people:
                size = min(rng.randint(5, 40), self._people - n)
                ids = [f"p{i:06d}" for i in range(n, n + size)]
                self.members.append(ids)
                for pid in ids:
                    self.team_of[pid] = team
                    if rng.random() < 0.1:
                        self._plan.append((rng.uniform(0, 300) * DAY, len(self._plan), JOIN, n))
                    else:  # in the order of the log, over the year before
                        self.clock = self.start - timedelta(days=400 * (1 - n / self._people))
                        batch.extend(self._register(pid, hr))
                    if rng.random() < 0.1:
                        self._plan.append((rng.uniform(1, 360) * DAY, len(self._plan), MOVE, n))
                    n += 1
                team += 1
                if len(batch) >= 2000:
                    yield batch
                    batch = []
            if batch:
                yield batch
        finally:
            library.datetime_now_with_tzinfo = patched

    def _register(self, pid: str, meta: Meta) -> list[Any]:
        team = self.team_of[pid]
        manager = self.members[team][0]
        hours = 32.0 if self.rng.random() < 0.15 else 40.0
        profile = Profile(
            f"Person {pid[1:]}",
            f"{pid}@example.com",
            None if manager == pid else manager,
            f"team-{team:05d}",
            hours,
            True,
        )
        person = Person.register(pid, profile, meta)
        self.persons[pid] = person
        return list(person.collect_events())

    def _plan_agreements(self) -> None:
        """Each agreement's whole timeline: proposed at a random time of the year by
        someone who is not their team's manager, then its decision, reviews, artifacts,
        perhaps a reallocation, perhaps an end and an outcome."""
        rng = self.rng
        year = (self.end - self.start).total_seconds() - 2 * DAY  # erasures come last
        for index in range(self.agreements_wanted):
            team = rng.randrange(len(self.members))
            while len(self.members[team]) < 2:
                team = rng.randrange(len(self.members))
            self.made.append(None)
            proposed = rng.uniform(0, year - 2 * DAY)
            plan = [(proposed, PROPOSE)]
            decided = proposed + rng.uniform(0.05, 7) * DAY
            roll = rng.random()
            if roll < 0.85:
                plan.append((decided, APPROVE))
                ends = decided + rng.uniform(30, 240) * DAY if rng.random() < 0.55 else year
                review = decided
                while True:
                    review += rng.uniform(14, 45) * DAY
                    if review >= min(ends, year):
                        break
                    plan.append((review, REVIEW))
                for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                    plan.append((rng.uniform(decided, min(ends, year)), ARTIFACT))
                if rng.random() < 0.1:
                    plan.append((rng.uniform(decided, min(ends, year)), REALLOCATE))
                if ends < year:
                    plan.append((ends, END))
                    outcome = ends + rng.uniform(0, 60) * DAY
                    if rng.random() < 0.6 and outcome < year:
                        plan.append((outcome, OUTCOME))
            elif roll < 0.95:
                plan.append((decided, REJECT))
            # The proposer is drawn from the team at the proposal (`_propose`).
            for at, action in plan:
                if at < year:  # nothing after today's start: every event is in the past
                    self._plan.append((at, len(self._plan), action, index * 100_000 + team))
        erased = rng.sample(range(self._people), self.erasures_wanted)
        for pid in erased:
            self._plan.append((year + rng.uniform(0.1, 1.9) * DAY, len(self._plan), ERASE, pid))

    # --- actions ------------------------------------------------------------------

    def _act(self, action: int, subject: int) -> list[Any]:
        hr = _meta("hr-bench", "HR")
        if action in (JOIN, MOVE, ERASE):
            pid = f"p{subject:06d}"
            if action == JOIN:
                return self._register(pid, hr)
            person = self.persons.get(pid)
            if person is None or person.erased:
                return []
            if action == MOVE:
                return self._move(person, hr)
            person.erase(_why(hr, "Left the company and asked to be forgotten"))
            self.erased.append(pid)
            return list(person.collect_events())
        index, team = divmod(subject, 100_000)
        if action == PROPOSE:
            return self._propose(index, team)
        agreement = self.made[index]
        if agreement is None:
            return []
        touched: list[Aggregate] = [agreement]
        with suppress(DomainError):  # that rule said no: the caller would try something else
            self._step(action, agreement, touched)
        events: list[Any] = []
        for aggregate in touched:
            events.extend(aggregate.collect_events())
        return events

    def _move(self, person: Person, meta: Meta) -> list[Any]:
        pid, before = person.person_id, self.team_of[person.person_id]
        team = self.rng.randrange(len(self.members))
        if self.members[before][0] == pid or team == before:
            return []  # managers stay with their teams
        self.members[before].remove(pid)
        self.members[team].append(pid)
        self.team_of[pid] = team
        now = person.profile
        moved = Profile(
            now.display_name,
            now.email,
            self.members[team][0],
            f"team-{team:05d}",
            now.contracted_hours_per_week,
            True,
        )
        person.update(moved, meta)
        return list(person.collect_events())

    def _propose(self, index: int, team: int) -> list[Any]:
        members = [p for p in self.members[team][1:] if p in self.persons]
        if not members:
            return []
        employee = self.rng.choice(members)
        goal = CareerGoal(
            self.rng.choice(ROLES),
            tuple(self.rng.sample(SKILLS, self.rng.randint(1, 3))),
            self.today + timedelta(days=self.rng.randint(90, 365)),
        )
        kind = self.rng.choice(list(AdjustmentKind))
        hours = self.rng.choice((1.0, 2.0, 3.0, 4.0))
        draft = AdjustmentDraft(kind, f"{kind.title()}: pair on a customer interview", hours)
        meta = _meta(employee, "EMPLOYEE")
        agreement = Agreement.propose(employee, f"Towards {goal.target_role}", goal, [draft], meta)
        self.made[index] = agreement
        self.proposed += 1
        return list(agreement.collect_events())

    def _step(self, action: int, agreement: Agreement, touched: list[Aggregate]) -> None:
        manager = self._manager_of(agreement.employee_id)
        meta = _meta(manager, "MANAGER")
        rng = self.rng
        if action == APPROVE:
            rails = Guardrails(8.0, ("release sign-off",), rng.choice((14, 30)))
            agreement.approve(manager, rails, self.today, meta)
        elif action == REJECT:
            agreement.reject(_why(meta, "Not this quarter"))
        elif action == REVIEW:
            outcome = rng.choice(list(ReviewOutcome))
            agreement.record_review(self.today, outcome, "Discussed progress", None, meta)
        elif action == ARTIFACT:
            skills = tuple(rng.sample(SKILLS, rng.randint(0, 2)))
            kind = rng.choice(list(ArtifactKind))
            url = f"https://wiki.example.com/{uuid4().hex[:10]}"
            agreement.record_artifact(f"{kind.title()} notes", kind, url, skills, self.today, meta)
        elif action == REALLOCATE:
            self._reallocate(agreement, meta, touched)
        elif action == END:
            if rng.random() < 0.85:
                agreement.complete(meta)
            else:
                agreement.withdraw(_why(_meta(agreement.employee_id, "EMPLOYEE"), "Moved on"))
        elif action == OUTCOME:
            kind = rng.choice(list(OutcomeKind))
            why = _why(meta, "Discussed at the last review") if kind in NEEDS_REASON else meta
            agreement.record_outcome(kind, self.today, why)

    def _reallocate(self, agreement: Agreement, meta: Meta, touched: list[Aggregate]) -> None:
        giver = agreement.employee_id
        hours = self.rng.choice((0.5, 1.0, 1.5))
        mates = self.members[self.team_of[giver]]
        room = [
            p
            for p in mates
            if p != giver and p in self.persons and self._received(p) + hours <= MAX_RECEIVED
        ]
        if not room:
            return
        why = _why(meta, "Frees time for the development goal")
        taker = self.rng.choice(room)
        toggle = agreement.reallocate(self.rng.choice(TASKS), hours, giver, taker, self.today, why)
        item = toggle.reallocation
        for pid, side in ((item.to_person_id, Side.RECEIVED), (item.from_person_id, Side.GIVEN)):
            ledger = self.ledgers.get(pid)
            if ledger is None:
                ledger = self.ledgers[pid] = HoursLedger.open(pid, why)
            ledger.book(item.id, agreement.id, side, item.hours_per_week, why)
            touched.append(ledger)

    def _received(self, pid: str) -> float:
        ledger = self.ledgers.get(pid)
        return 0.0 if ledger is None else ledger.net_received

    def _manager_of(self, pid: str) -> str:
        return self.members[self.team_of[pid]][0]

    @property
    def today(self) -> date:
        return self.clock.date()


def _meta(actor: str, role: str) -> Meta:
    return Meta(actor_id=actor, actor_role=role, correlation_id=str(uuid4()))


def _why(meta: Meta, reason: str) -> Meta:
    return Meta(meta.actor_id, meta.actor_role, meta.correlation_id, reason)
