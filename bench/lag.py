"""Projection lag under a steady command load: the projector runs in a thread (woken by
NOTIFY after each save), commands go through `app.execute` at a fixed rate, and a probe
thread polls the read models' position until each command's position is reached."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine

from bench.team import Team, draft
from domain.application import CommandResult, CraftingApplication, Request
from domain.application import commands as c
from domain.values import CareerGoal
from infra.bootstrap import Container
from infra.followers.read_models import current_position

GIVE_UP_SECONDS = 30.0


@dataclass
class LagResult:
    lags_ms: list[float]
    execute_ms: list[float]
    commands: int
    seconds: float
    timed_out: int


@dataclass
class Probe:
    """Polls the projected position every `interval` while commands are outstanding."""

    engine: Engine
    interval: float = 0.001
    pending: deque[tuple[int, float]] = field(default_factory=deque)
    lags_ms: list[float] = field(default_factory=list)
    timed_out: int = 0
    done: bool = False
    cond: threading.Condition = field(default_factory=threading.Condition)

    def expect(self, position: int, returned_at: float) -> None:
        with self.cond:
            self.pending.append((position, returned_at))
            self.cond.notify()

    def finish(self) -> None:
        with self.cond:
            self.done = True
            self.cond.notify()

    def run(self) -> None:
        while True:
            with self.cond:
                while not self.pending and not self.done:
                    self.cond.wait()
                if not self.pending:
                    return
            position = current_position(self.engine)
            now = time.perf_counter()
            with self.cond:
                while self.pending and self.pending[0][0] <= position:
                    self.lags_ms.append((now - self.pending.popleft()[1]) * 1000)
                while self.pending and now - self.pending[0][1] > GIVE_UP_SECONDS:
                    self.pending.popleft()
                    self.timed_out += 1
            time.sleep(self.interval)


class Load:
    """A small team (bench.team) and a cycle of everyday commands."""

    def __init__(self, app: CraftingApplication, agreements: int = 8) -> None:
        self.app = app
        self.team = Team(app)
        self.agreements = [self.team.active().id for _ in range(agreements)]
        self.last_change: dict[Any, str] = {}

    def command(self, i: int) -> tuple[Request, c.Command]:
        team, aid = self.team, self.agreements[(i // 5) % len(self.agreements)]
        step = i % 5
        if step == 0:
            return team.manager, c.RecordReview(agreement_id=aid, outcome="ON_TRACK")
        if step == 1:
            return team.employee, c.RecordArtifact(
                agreement_id=aid, title="Demo", kind="DEMO", skills=["roadmapping"]
            )
        if step == 2:
            return team.manager, c.AddAdjustment(agreement_id=aid, adjustment=draft(0.25))
        if step == 3 and aid in self.last_change:
            change = self.last_change.pop(aid)
            return team.manager, c.RevertChange(agreement_id=aid, change_id=change, reason="Undo")
        goal = CareerGoal("Product manager", ("roadmapping",), date(2030, 1, 1))
        return team.employee, c.ProposeAgreement(
            title="Another step", career_goal=goal, adjustments=[draft()]
        )

    def observe(self, command: c.Command, result: CommandResult) -> None:
        if isinstance(command, c.AddAdjustment) and result.agreement is not None:
            self.last_change[command.agreement_id] = next(reversed(result.agreement.changes))


def measure_lag(
    container: Container,
    seconds: float,
    rate: float,
    on_tick: Callable[[int], None] | None = None,
) -> LagResult:
    """Run the projector in a thread and commands at `rate` per second for `seconds`."""
    app, runner, reader = container.app, container.projector, container.engines.reader
    load = Load(app)
    runner.stopping.clear()
    thread = threading.Thread(target=runner.run, name="projection-runner", daemon=True)
    thread.start()
    head = app.recorder.max_notification_id() or 0
    deadline = time.monotonic() + 60
    while current_position(reader) < head and time.monotonic() < deadline:
        time.sleep(0.01)
    probe = Probe(reader)
    prober = threading.Thread(target=probe.run, name="lag-probe", daemon=True)
    prober.start()
    execute_ms: list[float] = []
    total = round(seconds * rate)
    start = time.perf_counter()
    try:
        for i in range(total):
            time.sleep(max(0.0, start + i / rate - time.perf_counter()))
            req, command = load.command(i)
            began = time.perf_counter()
            result = app.execute(req, command)
            returned = time.perf_counter()
            probe.expect(result.position, returned)
            execute_ms.append((returned - began) * 1000)
            load.observe(command, result)
            if on_tick is not None:
                on_tick(i + 1)
        elapsed = time.perf_counter() - start
    finally:
        probe.finish()
        prober.join(GIVE_UP_SECONDS + 5)
        runner.stop()
        thread.join(10)
    return LagResult(probe.lags_ms, execute_ms, total, elapsed, probe.timed_out)
