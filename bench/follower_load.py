"""What the followers of `crafting serve` cost per command under a load of commands:
the projector, the webhook planner and the notifications each run in a thread of their
own (their `run` loops, as in `serve`), while `--threads` threads issue the mix of
bench.follower_rounds back to back for `--seconds`.

    python -m bench.follower_load [--threads 4] [--seconds 10] [--database-url …]

Prints, per follower thread (the notifications' mail lanes counted with it), its CPU
(the thread's own clock, so neither the commands' threads nor other processes count),
its statements, its pool checkouts and the pings the pool sent before them, per command;
then the log's end and how long the followers took to reach it after the load.
`--profile DIR` writes a cProfile (timed by the thread's CPU clock) of each follower
thread to DIR. Run it against another tree with `PYTHONPATH=<tree>` (this file needs
nothing but the service's modules and bench.follower_rounds).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from bench.follower_rounds import asking
from bench.rebuild_throughput import fresh_schema
from domain.application import commands as c
from domain.person import Profile
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Guardrails, Role
from infra.bootstrap import Container, bootstrap
from infra.followers import Follower
from infra.followers.positions import current_position
from infra.secrets import new_master_key
from infra.settings import Settings


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--threads", type=int, default=4, help="threads issuing commands")
    add("--seconds", type=float, default=10.0)
    add("--profile", default=None, help="a folder for each follower thread's cProfile")
    add("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    return parser.parse_args(argv)


def directory(container: Container, threads: int) -> None:
    people = [("hr", None), ("mgr", None)] + [(f"emp{i}", "mgr") for i in range(5 * threads)]
    entries = [
        c.DirectoryEntry(pid, Profile(pid.title(), f"{pid}@example.com", boss, "team", 40, True))
        for pid, boss in people
    ]
    container.app.execute(asking("hr", Role.HR), c.UpsertPeople(people=entries))


def issue(container: Container, index: int, deadline: float, done: list[int]) -> None:
    """The mix of bench.follower_rounds on this thread's own employees until `deadline`."""
    app = container.app
    manager = asking("mgr", Role.MANAGER, Role.EMPLOYEE)
    work = AdjustmentDraft(AdjustmentKind.TASK, "Write one feature brief", 2)
    goal = CareerGoal("Product manager", ("roadmapping",))
    rails = Guardrails(6, ("release sign-off",), 14)
    i = 0
    agreement: Any = None
    while time.monotonic() < deadline:
        step = i % 4
        if step == 0:
            employee = asking(f"emp{index * 5 + i // 4 % 5}", Role.EMPLOYEE)
            proposed = c.ProposeAgreement(
                title="Tester to PM", career_goal=goal, adjustments=[work]
            )
            agreement = app.execute(employee, proposed).agreement
            assert agreement is not None
        elif step == 1:
            app.execute(manager, c.ApproveAgreement(agreement_id=agreement.id, guardrails=rails))
        elif step == 2:
            app.execute(manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=work))
        else:
            app.execute(manager, c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK"))
        i += 1
    done[index] = i


def thread_cpu(ident: int | None) -> float:
    assert ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(ident))


def measure(
    container: Container,
    followers: list[Follower],
    threads: int,
    seconds: float,
    profile: str | None,
) -> list[str]:
    statements: Counter[str] = Counter()
    checkouts: Counter[str] = Counter()
    pings: Counter[str] = Counter()
    cpu: Counter[str] = Counter()

    def owner() -> str | None:
        name = threading.current_thread().name
        if name.startswith("mail"):
            return "follower-notifications"
        return name if name.startswith("follower-") else None

    def counted(*_: Any, **__: Any) -> None:
        if (name := owner()) is not None:
            statements[name] += 1

    def checked_out(*_: Any) -> None:
        if (name := owner()) is not None:
            checkouts[name] += 1

    engines = {container.engines.writer, container.engines.reader}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", counted)
        event.listen(engine, "checkout", checked_out)
        dialect = engine.dialect
        ping = dialect.do_ping

        def pinging(dbapi_connection: Any, ping: Any = ping) -> Any:
            if (name := owner()) is not None:
                pings[name] += 1
            return ping(dbapi_connection)

        dialect.do_ping = pinging  # type: ignore[method-assign]
    recorder = container.app.recorder
    select = recorder.select_notifications

    def reading(*args: Any, **kwargs: Any) -> Any:
        counted()
        return select(*args, **kwargs)

    recorder.select_notifications = reading  # type: ignore[method-assign]

    # Mail lanes are threads of their own, started and ended per dispatch: their CPU
    # is read as they end.
    lanes: list[float] = []
    started_thread = threading.Thread.run

    def run_counted(self: threading.Thread) -> None:
        try:
            started_thread(self)
        finally:
            if self.name.startswith("mail"):
                lanes.append(time.thread_time())

    threading.Thread.run = run_counted  # type: ignore[method-assign]
    profiles: dict[str, cProfile.Profile] = {}

    def running(follower: Follower) -> Callable[[], None]:
        def run() -> None:
            if profile is None:
                follower.run()
                return
            profiler = profiles[follower.name] = cProfile.Profile(time.thread_time)
            profiler.enable()
            try:
                follower.run()
            finally:
                profiler.disable()

        return run

    loops = [
        threading.Thread(target=running(f), name=f"follower-{f.name}", daemon=True)
        for f in followers
    ]
    for loop in loops:
        loop.start()
    time.sleep(1.0)  # leadership taken, caught up with the directory
    head_before = recorder.max_notification_id() or 0
    for follower in followers:
        assert follower.consumer is not None
        deadline = time.monotonic() + 30
        while current_position(container.engines.reader, follower.consumer.name) < head_before:
            assert time.monotonic() < deadline, follower.name
            time.sleep(0.05)
    statements.clear(), checkouts.clear(), pings.clear()
    before = {loop.name: thread_cpu(loop.ident) for loop in loops}
    lanes.clear()
    done = [0] * threads
    deadline = time.monotonic() + seconds
    workers = [
        threading.Thread(target=issue, args=(container, i, deadline, done), name=f"cmd-{i}")
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ended = time.monotonic()
    head = recorder.max_notification_id() or 0
    for follower in followers:
        assert follower.consumer is not None
        while current_position(container.engines.reader, follower.consumer.name) < head:
            time.sleep(0.01)
    lag = time.monotonic() - ended
    time.sleep(0.3)  # the last round's dispatch
    for loop in loops:
        cpu[loop.name] = thread_cpu(loop.ident) - before[loop.name]
    cpu["follower-notifications"] += sum(lanes)
    for follower in followers:
        follower.stop()
    for loop in loops:
        loop.join(timeout=10)
    threading.Thread.run = started_thread  # type: ignore[method-assign]
    if profile is not None:
        os.makedirs(profile, exist_ok=True)
        for name, profiler in profiles.items():
            profiler.dump_stats(os.path.join(profile, f"{name}.prof"))
    commands = sum(done)
    lines = [
        f"{commands} commands in {seconds:g} s from {threads} threads "
        f"({commands / seconds:.0f}/s), {head - head_before} events; the followers "
        f"reached the log's end {lag:.2f} s after the load"
    ]
    for loop in loops:
        name = loop.name
        lines.append(
            f"{name}: {1000 * cpu[name] / commands:.3f} ms CPU, "
            f"{statements[name] / commands:.2f} statements, "
            f"{checkouts[name] / commands:.2f} checkouts, {pings[name] / commands:.2f} pings "
            "per command"
        )
    total = sum(cpu[loop.name] for loop in loops)
    lines.append(
        f"all followers: {1000 * total / commands:.3f} ms CPU, "
        f"{sum(statements.values()) / commands:.2f} statements, "
        f"{sum(checkouts.values()) / commands:.2f} checkouts, "
        f"{sum(pings.values()) / commands:.2f} pings per command"
    )
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
            directory(container, args.threads)
            for line in measure(container, followers, args.threads, args.seconds, args.profile):
                print(line)
        finally:
            container.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
