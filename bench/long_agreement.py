"""One agreement grown to a long history quickly, for the benchmarks that measure long
agreements (time travel, a command's cost as its agreement grows).

Through `CraftingApplication.execute` each command pays for copying the cached agreement
and for a save of its own: growing one agreement to 100,000 events that way took hours
(every copy walks containers as large as the history). Here the same commands run
through the service's own handlers (`domain.application.handlers.handle`, with a
`UnitOfWork`: the same checks, the same events, sealed as the service seals them) on one
agreement held in memory, and its events are saved in batches with `app.save`: the
service's mapper, transcoder and store, and its snapshots, taken by `app.save` at the
versions the service takes them (`takes_snapshot_at`), by loading the agreement at that
version from the store as the service does. Nothing is forged: a replay of the stored
events gives the agreement held here (tests/unit/test_long_agreement.py).
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from uuid import UUID

from bench.team import Team
from domain.agreement import CHILD_LIMITS, Agreement
from domain.agreement import events as ev
from domain.application import CraftingApplication, Request
from domain.application import commands as c
from domain.application.handlers import handle
from domain.application.unit_of_work import UnitOfWork
from domain.person import Person
from domain.sealing import sealing_with
from domain.values import AdjustmentDraft, AdjustmentKind, Guardrails

Current = Callable[[], Agreement]


class CommandMix:
    """The next command of the time-travel mix, drawn at random (the same draws every
    run): reviews, artifacts, added adjustments (the oldest reverted once more than 10
    are active), guardrail changes. `current` gives the agreement as it stands.

    The adjustments in effect are followed through the events the mix's commands record
    (`saw`), not found by reading every adjustment at each draw (with the child limits
    lifted, that read grew with the history, and read the snapshot's stored chunks of
    adjustments each time the agreement was loaded): the same draws, the same order."""

    def __init__(self, aid: UUID, current: Current) -> None:
        self.aid = aid
        self.current = current
        self.rng = random.Random(7)
        self.wide, self.narrow = Guardrails(40, (), 14), Guardrails(39.75, (), 7)
        self.active: deque[str] | None = None  # their change ids, oldest first

    def __call__(self) -> c.Command:
        aid, roll = self.aid, self.rng.random()
        if roll < 0.55:
            return c.RecordReview(agreement_id=aid, outcome="ON_TRACK", notes="weekly check-in")
        if roll < 0.70:
            return c.RecordArtifact(
                agreement_id=aid, title="Notes", kind="DOCUMENTATION", skills=["writing"]
            )
        if roll < 0.85:
            if self.active is None:  # once: those the agreement holds already
                adjustments = self.current().adjustments.values()
                self.active = deque(a.change_id for a in adjustments if a.status == "ACTIVE")
            if len(self.active) > 10:
                return c.RevertChange(agreement_id=aid, change_id=self.active[0], reason="rotate")
            return c.AddAdjustment(
                agreement_id=aid,
                adjustment=AdjustmentDraft(AdjustmentKind.COGNITIVE, "Reframe the week", 0),
            )
        guardrails = self.narrow if self.current().guardrails == self.wide else self.wide
        return c.SetGuardrails(agreement_id=aid, guardrails=guardrails)

    def saw(self, event: object) -> None:
        """The last event a command of the mix recorded."""
        if self.active is None:
            return
        if isinstance(event, ev.AdjustmentAdded):
            self.active.append(event.adjustment.change_id)
        elif isinstance(event, ev.ChangeReverted):
            assert event.reverted_change_id == self.active.popleft()


def command_mix(aid: UUID, current: Current) -> CommandMix:
    """The time-travel mix (CommandMix)."""
    return CommandMix(aid, current)


def lift_child_limits() -> None:
    """These benchmarks measure a history far longer than the service lets one
    agreement grow (CHILD_LIMITS), on purpose."""
    for kind in CHILD_LIMITS:
        CHILD_LIMITS[kind] = 10**9


class _HeldAgreement:
    """The application as a unit of work reads it, but for the one agreement, which
    is the one held in memory (the copy the library would hand each command is the
    cost this module avoids)."""

    def __init__(self, app: CraftingApplication, agreement: Agreement) -> None:
        self._app = app
        self._agreement = agreement

    def load_agreement(self, agreement_id: UUID) -> Agreement | None:
        if agreement_id == self._agreement.id:
            return self._agreement
        return self._app.load_agreement(agreement_id)

    def load_agreement_with_employee(
        self, agreement_id: UUID
    ) -> tuple[Agreement | None, dict[str, Person | None]]:
        return self.load_agreement(agreement_id), {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)


class LongAgreement:
    """One agreement of `team`, grown by the time-travel mix of commands."""

    def __init__(self, team: Team, aid: UUID) -> None:
        self.app = team.app
        self.aid = aid
        self.request: Request = team.manager
        self._held: Agreement | None = None
        self.next_command = command_mix(aid, self.current)

    def current(self) -> Agreement:
        """The agreement as it stands (held in memory while growing, else loaded)."""
        if self._held is not None:
            return self._held
        agreement: Agreement = self.app.repository.get(self.aid)
        return agreement

    def execute(self) -> Agreement:
        """The next command of the mix through `execute`, as a client's would run."""
        return self.execute_command(self.next_command())

    def execute_command(self, command: c.Command) -> Agreement:
        """One command of the mix (drawn by `next_command`) through `execute`."""
        result = self.app.execute(self.request, command)
        assert result.agreement is not None
        self.saw_last()
        return result.agreement

    def saw_last(self) -> None:
        """Show the mix the agreement's last stored event (after `execute`)."""
        (last,) = self.app.events.get(self.aid, desc=True, limit=1)
        self.next_command.saw(last)

    def grow(self, to_version: int, batch: int = 500, progress: int = 0) -> int:
        """Run the mix until the agreement reaches `to_version`, saving every `batch`
        events; print the pace every `progress` events (0: never). Its version."""
        self._held = self.app.repository.get(self.aid)
        model = _HeldAgreement(self.app, self._held)
        started, last_save = time.perf_counter(), self._held.version
        try:
            while self._held.version < to_version:
                command = self.next_command()
                session = UnitOfWork(model, self.request, command, self.app.clock())
                with sealing_with(self.app.keys):
                    handle(session, command)
                self.next_command.saw(self._held.pending_events[-1])
                # The mix touches the agreement alone: no ledgers, no keys destroyed,
                # nothing waiting for the save (else a batch could not stand for it).
                assert session.pending == [self._held], command
                assert not session.destroyed, command
                assert not session.then, command
                version = self._held.version
                if version - last_save >= batch or version >= to_version:
                    self.app.save(self._held)
                    last_save = version
                if progress and version % progress == 0:
                    print(
                        f"  {version:,} events ({time.perf_counter() - started:.0f} s)", flush=True
                    )
            return self._held.version
        finally:
            self._held = None  # later reads load it, from the cache the save filled


def long_agreement(app: CraftingApplication, events: int, progress: int = 0) -> LongAgreement:
    """A new agreement with `events` events of every kind (see `LongAgreement.grow`)."""
    lift_child_limits()
    team = Team(app)
    agreement = LongAgreement(team, team.active().id)
    agreement.grow(events, progress=progress)
    return agreement
