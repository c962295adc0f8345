"""Realistic event histories made with the real aggregates, without the application:
a directory of people, hours ledgers, and many agreements whose lifecycles interleave
as they would in production. Only events the real commands could have recorded are
made: every aggregate method checks its own rules, and the cross-aggregate rule (the
receiver limit) is kept here, as the handlers keep it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate

from domain.agreement import Agreement, ReallocationToggle
from domain.errors import DomainError
from domain.idempotency import IdempotencyRecord
from domain.ledger import HoursLedger, Side
from domain.metadata import Meta
from domain.person import Person, Profile
from domain.records import ChangeKind
from domain.values import (
    AdjustmentDraft,
    AdjustmentKind,
    AgreementStatus,
    ArtifactKind,
    CareerGoal,
    Guardrails,
    ReviewOutcome,
)

S = AgreementStatus
START = date(2024, 1, 1)
MAX_RECEIVED = 4.0  # the application's default limit of hours received per week
ROLES = ("Product manager", "Staff engineer", "Designer", "Data analyst", "Team lead")
SKILLS = ("customer research", "roadmapping", "sql", "mentoring", "facilitation", "writing")
TASKS = ("on-call", "release notes", "triage", "sprint demo", "hiring loop", "docs review")
PROTECTED = ("release sign-off", "security review")
ACTIVE_ACTIONS = (
    ("review", 24),
    ("artifact", 26),
    ("adjust", 14),
    ("reallocate", 6),
    ("revert", 10),
    ("guardrails", 5),
    ("revert_to_version", 1),
    ("pause", 3),
)


@dataclass
class Live:
    """An agreement in progress and the number of events it will reach."""

    agreement: Agreement
    target: int


class Workload:
    """Yields the events of one command at a time, in a realistic mix."""

    def __init__(self, rng: random.Random, people: int = 300, live: int = 2000) -> None:
        self.rng = rng
        self.suffix = uuid4().hex[:6]
        self.managers = [f"mgr-{i:03d}-{self.suffix}" for i in range(max(2, people // 8))]
        self.employees = [
            f"emp-{i:04d}-{self.suffix}" for i in range(max(2, people - len(self.managers)))
        ]
        self.manager_of = {e: self.rng.choice(self.managers) for e in self.employees}
        self.team: dict[str, list[str]] = {}
        for emp, mgr in self.manager_of.items():
            self.team.setdefault(mgr, []).append(emp)
        self.people: dict[str, Person] = {}
        self.ledgers: dict[str, HoursLedger] = {}
        self.live_target = live
        self.live: list[Live] = []
        self.touched: list[HoursLedger] = []
        self.steps = 0
        self.proposed = 0

    # --- the stream ---------------------------------------------------------------

    def commands(self) -> Iterator[list[Any]]:
        """Endless: the directory first, then agreement commands, interleaved."""
        yield self._directory()
        while True:
            if not self.live or (len(self.live) < self.live_target and self.rng.random() < 0.15):
                yield self._propose()
                continue
            index = self.rng.randrange(len(self.live))
            yield self._step(index)
            if self.rng.random() < 0.002:
                yield self._profile_change()

    def _directory(self) -> list[Any]:
        meta = self._meta("hr-bench", "HR")
        team = f"team-{self.suffix}"
        everyone = [(m, None) for m in self.managers] + list(self.manager_of.items())
        for pid, manager in everyone:
            profile = Profile(pid.title(), f"{pid}@example.com", manager, team, 40.0, True)
            self.people[pid] = Person.register(pid, profile, meta)
        return self._collect(*self.people.values())

    def _profile_change(self) -> list[Any]:
        pid = self.rng.choice(self.employees)
        person = self.people[pid]
        hours = self.rng.choice((32.0, 36.0, 40.0))
        profile = Profile(
            person.profile.display_name,
            person.profile.email,
            person.profile.manager_id,
            person.profile.team_id,
            hours,
            True,
        )
        person.update(profile, self._meta("hr-bench", "HR"))
        return self._collect(person)

    # --- agreements ---------------------------------------------------------------

    def _propose(self) -> list[Any]:
        employee = self.rng.choice(self.employees)
        goal = CareerGoal(
            self.rng.choice(ROLES),
            tuple(self.rng.sample(SKILLS, self.rng.randint(1, 3))),
            self.day + timedelta(days=self.rng.randint(90, 365)),
        )
        drafts = [self._draft() for _ in range(self.rng.randint(1, 3))]
        meta = self._meta(employee, "EMPLOYEE")
        agreement = Agreement.propose(employee, f"Towards {goal.target_role}", goal, drafts, meta)
        self.live.append(Live(agreement, self.rng.randint(10, 40)))
        self.proposed += 1
        return self._collect(agreement)

    def _step(self, index: int) -> list[Any]:
        item = self.live[index]
        agreement = item.agreement
        self.steps += 1
        if agreement.status is S.PROPOSED:
            self._decide(agreement)
        elif agreement.status is S.CHANGES_REQUESTED:
            self._after_changes_requested(agreement)
        elif agreement.version >= item.target:
            self._finish(agreement)
        elif agreement.status is S.PAUSED:
            self._paused(agreement)
        else:
            self._active(agreement)
        events = self._collect(agreement, *self.touched)
        self.touched.clear()
        if agreement.status.is_final:
            self.live[index] = self.live[-1]
            self.live.pop()
        return events

    def _decide(self, agreement: Agreement) -> None:
        meta = self._as_manager(agreement)
        roll = self.rng.random()
        if roll < 0.80 or agreement.version > 4:
            rails = Guardrails(
                self.rng.choice((6.0, 8.0, 10.0)), PROTECTED[:1], self.rng.choice((14, 30))
            )
            try:
                agreement.approve(meta.actor_id, rails, self.day, meta)
                return
            except DomainError:  # proposal above the guardrail: ask for less
                pass
        if roll < 0.96:
            agreement.request_changes(self._why(meta, "Please narrow the scope"))
        else:
            agreement.reject(self._why(meta, "Not this quarter"))

    def _after_changes_requested(self, agreement: Agreement) -> None:
        meta = self._meta(agreement.employee_id, "EMPLOYEE")
        if self.rng.random() < 0.05:
            agreement.withdraw(self._why(meta, "Changed my mind"))
            return
        goal = agreement.career_goal
        agreement.revise(agreement.title + " (revised)", goal, [self._draft(max_hours=2)], meta)

    def _finish(self, agreement: Agreement) -> None:
        away = [
            c
            for c in agreement.changes.values()
            if c.kind is ChangeKind.TASK_REALLOCATED and agreement.is_in_effect(c.id)
        ]
        if away:  # hand the tasks back first, so the receivers' ledgers free up
            head = agreement.changes[agreement.head_of(away[0].id)]
            why = self._why(self._as_manager(agreement), "Development phase is over")
            self._follow(agreement, agreement.revert_change(head.id, why), why)
            return
        if self.rng.random() < 0.85:
            agreement.complete(self._as_manager(agreement))
        else:
            meta = self._meta(agreement.employee_id, "EMPLOYEE")
            agreement.withdraw(self._why(meta, "Moved to another team"))

    def _paused(self, agreement: Agreement) -> None:
        meta = self._as_manager(agreement)
        roll = self.rng.random()
        if roll < 0.6:
            agreement.resume(meta)
        elif roll < 0.8:
            self._review(agreement, meta)
        else:
            self._artifact(agreement, meta)

    def _active(self, agreement: Agreement) -> None:
        meta = self._as_manager(agreement)
        actions, weights = zip(*ACTIVE_ACTIONS, strict=True)
        for action in self.rng.choices(actions, weights, k=3):
            try:
                getattr(self, "_" + action)(agreement, meta)
                return
            except DomainError:  # that rule said no: the caller would try something else
                continue
        self._review(agreement, meta)

    # --- active actions (called by name from ACTIVE_ACTIONS) ------------------------

    def _review(self, agreement: Agreement, meta: Meta) -> None:
        outcome = self.rng.choice(list(ReviewOutcome))
        agreement.record_review(self.day, outcome, "Discussed progress and next steps", None, meta)

    def _artifact(self, agreement: Agreement, meta: Meta) -> None:
        if self.rng.random() < 0.5:
            meta = self._meta(agreement.employee_id, "EMPLOYEE")
        skills = tuple(self.rng.sample(SKILLS, self.rng.randint(0, 3)))
        kind = self.rng.choice(list(ArtifactKind))
        url = f"https://wiki.example.com/{uuid4().hex[:10]}"
        title = f"{kind.title()} on {', '.join(skills) or 'the basics'}"
        agreement.record_artifact(title, kind, url, skills, self.day, meta)

    def _adjust(self, agreement: Agreement, meta: Meta) -> None:
        agreement.add_adjustment(self._draft(max_hours=2), meta)

    def _reallocate(self, agreement: Agreement, meta: Meta) -> None:
        giver = agreement.employee_id
        hours = self.rng.choice((0.5, 1.0, 1.5))
        mates = [p for p in self.team[self.manager_of[giver]] if p != giver]
        room = [p for p in mates if self._received(p) + hours <= MAX_RECEIVED]
        if not room:
            raise DomainError("nobody has room")
        task = self.rng.choice(TASKS)
        why = self._why(meta, "Frees time for the development goal")
        toggle = agreement.reallocate(task, hours, giver, self.rng.choice(room), self.day, why)
        self._follow(agreement, [toggle], why)

    def _revert(self, agreement: Agreement, meta: Meta) -> None:
        heads = [c for c in agreement.changes.values() if c.reverted_by is None]
        if not heads:
            raise DomainError("nothing to revert")
        head = self.rng.choice(heads)
        root = agreement.changes[head.root_id]
        if root.kind is ChangeKind.TASK_REALLOCATED and not agreement.is_in_effect(root.id):
            item = agreement.reallocations[root.subject_id]
            if self._received(item.to_person_id) + item.hours_per_week > MAX_RECEIVED:
                raise DomainError("re-applying would overload the receiver")
        why = self._why(meta, "Did not work out as hoped")
        self._follow(agreement, agreement.revert_change(head.id, why), why)

    def _revert_to_version(self, agreement: Agreement, meta: Meta) -> None:
        assert agreement.approved_version is not None
        version = self.rng.randint(agreement.approved_version, agreement.version)
        for change in agreement.changes.values():  # only switch reallocations off
            if change.kind is ChangeKind.TASK_REALLOCATED and change.version <= version:
                raise DomainError("would re-apply a reallocation")
        why = self._why(meta, "Back to the agreed plan")
        self._follow(agreement, agreement.revert_to_version(version, why), why)

    def _guardrails(self, agreement: Agreement, meta: Meta) -> None:
        rails = Guardrails(
            self.rng.choice((6.0, 8.0, 10.0, 12.0)),
            PROTECTED[: self.rng.randint(1, 2)],
            self.rng.choice((14, 21, 30)),
        )
        agreement.set_guardrails(rails, meta)

    def _pause(self, agreement: Agreement, meta: Meta) -> None:
        agreement.pause(self._why(meta, "Busy release season"))

    # --- helpers ------------------------------------------------------------------

    def _follow(self, agreement: Agreement, toggles: list[ReallocationToggle], meta: Meta) -> None:
        """Book or release the hours in both people's ledgers, as the handlers do."""
        for toggle in toggles:
            item = toggle.reallocation
            for pid, side in (
                (item.to_person_id, Side.RECEIVED),
                (item.from_person_id, Side.GIVEN),
            ):
                ledger = self.ledgers.get(pid)
                if ledger is None:
                    ledger = self.ledgers[pid] = HoursLedger.open(pid, meta)
                if toggle.active:
                    ledger.book(item.id, agreement.id, side, item.hours_per_week, meta)
                else:
                    ledger.release(item.id, agreement.id, meta)
                if all(t is not ledger for t in self.touched):
                    self.touched.append(ledger)

    def _received(self, pid: str) -> float:
        ledger = self.ledgers.get(pid)
        return 0.0 if ledger is None else ledger.net_received

    def _draft(self, max_hours: float = 3.0) -> AdjustmentDraft:
        kind = self.rng.choice(list(AdjustmentKind))
        hours = self.rng.choice([h / 4 for h in range(1, int(max_hours * 4) + 1)])
        return AdjustmentDraft(kind, f"{kind.title()}: pair on a customer interview", hours)

    def _as_manager(self, agreement: Agreement) -> Meta:
        return self._meta(self.manager_of[agreement.employee_id], "MANAGER")

    def _meta(self, actor: str, role: str) -> Meta:
        return Meta(actor_id=actor, actor_role=role, correlation_id=str(uuid4()))

    @staticmethod
    def _why(meta: Meta, reason: str) -> Meta:
        return Meta(meta.actor_id, meta.actor_role, meta.correlation_id, reason)

    @property
    def day(self) -> date:
        """The simulated calendar: about 200 commands a day."""
        return START + timedelta(days=self.steps // 200)

    def _collect(self, *aggregates: Aggregate) -> list[Any]:
        events: list[Any] = []
        for aggregate in aggregates:
            events.extend(aggregate.collect_events())
        first = aggregates[0] if aggregates else None
        if events and isinstance(first, Agreement) and self.rng.random() < 0.05:
            # Some callers send idempotency keys: the record is saved with the command.
            meta = self._meta(events[0].actor_id, "SYSTEM")
            record = IdempotencyRecord.record(
                uuid4().hex,
                "Command",
                uuid4().hex,
                meta,
                agreement_id=first.id,
                agreement_version=first.version,
            )
            events.extend(record.collect_events())
        return events
