"""The CPU and the statements of each command of the commands benchmark's mix, in one
process, on PostgreSQL (the executor's share of `crafting serve`'s work, without HTTP).

    python -m bench.command_cpu [--agreements 40] [--profile out.prof]

A fresh schema (dropped at the end) with one manager and five employees; per agreement,
as `bench.commands_e2e`'s clients do: propose, approve, then three rounds of add an
adjustment, reallocate half an hour to a teammate, record a review, revert the
adjustment — each through `CraftingApplication.execute`. Prints, per kind, the mean
`thread_time` of `execute` (this thread's CPU: other processes' load and PostgreSQL's
own work do not move it) and the statements it sent (SQLAlchemy's, and the event store's
reads and saves). The first agreement warms up and is not counted. With `--profile`,
cProfile's statistics of the counted commands are written to that file.
Run it against another tree with `PYTHONPATH=<tree>` to compare.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from sqlalchemy import event

from bench.rebuild_throughput import fresh_schema
from domain.access import Actor
from domain.application import Request
from domain.application import commands as c
from domain.person import Profile
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Guardrails, Role
from infra.bootstrap import Container, bootstrap
from infra.secrets import new_master_key
from infra.settings import Settings

KINDS = ("propose", "approve", "addAdjustment", "reallocate", "recordReview", "revertChange")
EMPLOYEES = [f"emp{i}" for i in range(5)]


def asking(actor_id: str, *roles: Role) -> Request:
    return Request(Actor(actor_id, frozenset(roles)), correlation_id=str(uuid4()))


def _counting(call: Callable[..., Any], counted: Callable[[], None]) -> Callable[..., Any]:
    def counting(*args: Any, **kwargs: Any) -> Any:
        counted()
        return call(*args, **kwargs)

    return counting


def measure(container: Container, agreements: int, profile: str | None) -> list[str]:
    app = container.app
    hr, manager = asking("hr", Role.HR), asking("mgr", Role.MANAGER, Role.EMPLOYEE)
    people = [("hr", None), ("mgr", None)] + [(pid, "mgr") for pid in EMPLOYEES]
    app.execute(
        hr,
        c.UpsertPeople(
            people=[
                c.DirectoryEntry(pid, Profile(pid.title(), f"{pid}@x.example", boss, "t", 40, True))
                for pid, boss in people
            ]
        ),
    )
    statements: Counter[str] = Counter()
    cpu: Counter[str] = Counter()
    runs: Counter[str] = Counter()
    current: list[str] = []

    def counted(*_: Any, **__: Any) -> None:
        if current:
            statements[current[0]] += 1

    for engine in {container.engines.writer, container.engines.reader}:
        event.listen(engine, "before_cursor_execute", counted)
    recorder = app.recorder
    for name in ("select_events", "select_events_past", "insert_events", "select_notifications"):
        if hasattr(recorder, name):  # select_events_past: not in every tree
            setattr(recorder, name, _counting(getattr(recorder, name), counted))
    profiler = cProfile.Profile(time.thread_time) if profile else None  # CPU, not waits

    def run(kind: str, request: Request, command: c.Command, counting: bool) -> Any:
        if counting:
            current[:] = [kind]
            if profiler:
                profiler.enable()
        started = time.thread_time()
        result = app.execute(request, command)
        spent = time.thread_time() - started
        if counting:
            if profiler:
                profiler.disable()
            current.clear()
            cpu[kind] += spent
            runs[kind] += 1
        return result

    work = AdjustmentDraft(AdjustmentKind.TASK, "Write one feature brief", 1)
    rails = Guardrails(8, ("Release sign-off",), 14)
    for n in range(agreements + 1):
        counting = n > 0
        employee = EMPLOYEES[n % len(EMPLOYEES)]
        mate = EMPLOYEES[(n + 1) % len(EMPLOYEES)]
        goal = CareerGoal("Product manager", ("research",))
        proposal = c.ProposeAgreement(title="Tester to PM", career_goal=goal, adjustments=[work])
        found = run("propose", asking(employee, Role.EMPLOYEE), proposal, counting).agreement
        aid = found.id
        run("approve", manager, c.ApproveAgreement(agreement_id=aid, guardrails=rails), counting)
        for cycle in range(3):
            extra = AdjustmentDraft(AdjustmentKind.COGNITIVE, f"Research {cycle + 1}", 1)
            added = run(
                "addAdjustment",
                manager,
                c.AddAdjustment(agreement_id=aid, adjustment=extra),
                counting,
            ).agreement
            move = c.ReallocateTask(
                agreement_id=aid,
                task=f"Smoke tests {cycle + 1}",
                hours_per_week=0.5,
                to_person_id=mate,
                reason="Frees time for research",
            )
            run("reallocate", manager, move, counting)
            review = c.RecordReview(agreement_id=aid, outcome="ON_TRACK", notes="Going well")
            run("recordReview", manager, review, counting)
            change = list(added.adjustments.values())[-1].change_id
            revert = c.RevertChange(agreement_id=aid, change_id=change, reason="Too much")
            run("revertChange", manager, revert, counting)
    if profiler and profile:
        profiler.dump_stats(profile)
    lines = [
        f"command {kind}: {statements[kind] / runs[kind]:.1f} statements, "
        f"{1000 * cpu[kind] / runs[kind]:.3f} ms CPU"
        for kind in KINDS
    ]
    total = sum(runs.values())
    lines.append(
        f"the mix: {sum(statements.values()) / total:.2f} statements, "
        f"{1000 * sum(cpu.values()) / total:.3f} ms CPU per command ({total} commands)"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--agreements", type=int, default=40)
    parser.add_argument("--profile", default=None, help="write cProfile statistics here")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    os.environ.setdefault("CRAFTING_MASTER_KEY", new_master_key())
    with fresh_schema(args.database_url, keep=False) as url:
        container = bootstrap(Settings(database_url=url, jwt_secret=secrets.token_urlsafe(48)))
        try:
            container.prepare()
            for line in measure(container, args.agreements, args.profile):
                print(line)
        finally:
            container.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
