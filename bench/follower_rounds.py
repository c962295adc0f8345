"""What the followers of `crafting serve` cost per round when each round is one command's
events — the commands benchmark's case, where every save wakes every follower.

    python -m bench.follower_rounds [--commands 200] [--database-url postgresql://…]

A fresh schema (dropped at the end) with a small directory; then `--commands` commands
(a proposal, its approval, an adjustment, a review, in turn), each followed by one
round of the projector, the webhook planner and the notification planner (`catch_up`
and `dispatch`, as their loops do). Prints, per follower, the statements a round sends
(SQLAlchemy's and the event store's log reads) and its `process_time`, so other
processes' load does not move the figure; and the same of the commands themselves, by
kind (`app.execute`: the event store's reads and writes and SQLAlchemy's statements),
and what a person's lookup costs.
Run it against another tree with `PYTHONPATH=<tree>` to compare (this file needs
nothing but the service's modules).
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable
from copy import deepcopy
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import event

from bench.rebuild_throughput import fresh_schema
from domain.access import Actor
from domain.application import Request
from domain.application import commands as c
from domain.person import Profile
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Guardrails, Role
from infra.bootstrap import Container, bootstrap
from infra.followers import Follower
from infra.secrets import new_master_key
from infra.settings import Settings


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--commands", type=int, default=200, help="commands, one follower round each")
    add("--people", type=int, default=0, help="others in the directory, in other teams")
    add(
        "--per-round",
        type=int,
        default=1,
        help="commands before each round (under load a round finds several commands' events)",
    )
    add(
        "--no-dispatch",
        action="store_true",
        help="rounds without the dispatchers (mail, webhook sends): the log's following only",
    )
    add("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    return parser.parse_args(argv)


def asking(actor_id: str, *roles: Role) -> Request:
    return Request(Actor(actor_id, frozenset(roles)), correlation_id=str(uuid4()))


def commands(container: Container, others: int = 0) -> Callable[[int], None]:
    """A directory of one manager and five employees (and `others` people the commands
    do not concern); the i-th command of the mix."""
    app = container.app
    hr, manager = asking("hr", Role.HR), asking("mgr", Role.MANAGER, Role.EMPLOYEE)
    people = [("hr", None), ("mgr", None)] + [(f"emp{i}", "mgr") for i in range(5)]
    entries = [
        c.DirectoryEntry(pid, Profile(pid.title(), f"{pid}@example.com", boss, "team", 40, True))
        for pid, boss in people
    ]
    app.execute(hr, c.UpsertPeople(people=entries))
    for start in range(0, others, 500):  # the most one upsert takes
        app.execute(
            hr,
            c.UpsertPeople(
                people=[
                    c.DirectoryEntry(
                        f"o{n}",
                        Profile(f"O{n}", f"o{n}@example.com", None, f"t{n // 10}", 40, True),
                    )
                    for n in range(start, min(others, start + 500))
                ]
            ),
        )
    work = AdjustmentDraft(AdjustmentKind.TASK, "Write one feature brief", 2)
    open_: list[UUID] = []

    def run(i: int) -> None:
        step = i % 4
        employee = asking(f"emp{i // 4 % 5}", Role.EMPLOYEE)
        if step == 0:
            goal = CareerGoal("Product manager", ("roadmapping",))
            proposed = c.ProposeAgreement(
                title="Tester to PM", career_goal=goal, adjustments=[work]
            )
            found = app.execute(employee, proposed).agreement
            assert found is not None
            open_.append(found.id)
        elif step == 1:
            rails = Guardrails(6, ("release sign-off",), 14)
            app.execute(manager, c.ApproveAgreement(agreement_id=open_[-1], guardrails=rails))
        elif step == 2:
            app.execute(manager, c.AddAdjustment(agreement_id=open_[-1], adjustment=work))
        else:
            app.execute(manager, c.RecordReview(agreement_id=open_[-1], outcome="ON_TRACK"))

    return run


KINDS = ("propose", "approve", "addAdjustment", "recordReview")  # the i-th command: KINDS[i % 4]


def _counting(call: Callable[..., Any], counted: Callable[[], None]) -> Callable[..., Any]:
    def counting(*args: Any, **kwargs: Any) -> Any:
        counted()
        return call(*args, **kwargs)

    return counting


def measure(
    container: Container,
    followers: list[Follower],
    count: int,
    others: int = 0,
    per_round: int = 1,
    dispatch: bool = True,
) -> list[str]:
    statements: Counter[str] = Counter()
    cpu: Counter[str] = Counter()
    current: list[str] = []

    def counted(*_: Any, **__: Any) -> None:
        if current:
            statements[current[0]] += 1

    for engine in {container.engines.writer, container.engines.reader}:
        event.listen(engine, "before_cursor_execute", counted)
    recorder = container.app.recorder
    select = recorder.select_notifications

    def reading(*args: Any, **kwargs: Any) -> Any:
        counted()
        return select(*args, **kwargs)

    recorder.select_notifications = reading  # type: ignore[method-assign]
    for name in ("select_events", "insert_events"):  # a command's reads and its save
        setattr(recorder, name, _counting(getattr(recorder, name), counted))
    run = commands(container, others)
    for follower in followers:
        follower.catch_up()
    for i in range(count):
        kind = KINDS[i % 4]
        current[:] = [kind]
        started = time.process_time()
        run(i)
        cpu[kind] += time.process_time() - started
        current.clear()
        if (i + 1) % per_round and i + 1 < count:
            continue
        for follower in followers:
            follower._wake.clear()  # the save woke it: its loop's `wait` takes that in
            current[:] = [follower.name]
            started = time.process_time()
            follower.catch_up()
            if dispatch:
                follower.dispatch()
            cpu[follower.name] += time.process_time() - started
            current.clear()
    lines = []
    for kind in KINDS:
        n = len(range(KINDS.index(kind), count, 4)) or 1
        lines.append(
            f"command {kind}: {statements[kind] / n:.1f} statements, "
            f"{1000 * cpu[kind] / n:.2f} ms CPU"
        )
    lines.append(
        f"commands: {sum(statements[k] for k in KINDS) / count:.1f} statements, "
        f"{1000 * sum(cpu[k] for k in KINDS) / count:.2f} ms CPU per command"
    )
    for follower in followers:
        name = follower.name
        lines.append(
            f"{name}: {statements[name] / count:.2f} statements, "
            f"{1000 * cpu[name] / count:.3f} ms CPU per command"
        )
    total = sum(cpu[f.name] for f in followers) / count
    lines.append(
        f"all three: {sum(statements[f.name] for f in followers) / count:.2f} statements, "
        f"{1000 * total:.3f} ms CPU per command (rounds of {per_round} commands' events)"
    )
    return lines


def lookups(container: Container, repeat: int = 500) -> list[str]:
    """What looking up a person costs, the best of 5 runs of `repeat`: `find_person`
    (the store's fast-forward read and a copy of the cached person) and the copy alone."""
    app = container.app
    person = app.find_person("emp0")
    assert person is not None
    cached = app.repository.get(person.id, deepcopy_from_cache=False)
    lines = []
    for name, call in (
        ("find_person", lambda: app.find_person("emp0")),
        ("the copy of a cached person", lambda: deepcopy(cached)),
    ):
        best = float("inf")
        for _ in range(5):
            started = time.process_time()
            for _ in range(repeat):
                call()
            best = min(best, (time.process_time() - started) / repeat)
        lines.append(f"a person's lookup, {name}: {1000 * best:.4f} ms CPU")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.environ.setdefault("CRAFTING_MASTER_KEY", new_master_key())
    with fresh_schema(args.database_url, keep=False) as url:
        settings = Settings(database_url=url, jwt_secret=secrets.token_urlsafe(48))
        container = bootstrap(settings)
        try:
            container.prepare()
            notifications = container.notifications(secrets.token_urlsafe(48)).follower
            followers = [container.projector, container.webhooks, notifications]
            for follower in followers:
                follower.prepare()
            lines = measure(
                container,
                followers,
                args.commands,
                args.people,
                args.per_round,
                dispatch=not args.no_dispatch,
            )
            for line in lines:
                print(line)
            for line in lookups(container):
                print(line)
        finally:
            container.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
