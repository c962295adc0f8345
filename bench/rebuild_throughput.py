"""Rebuild throughput versus the raw read-and-decode rate, and projection lag under load.

    python -m bench.rebuild_throughput --events 1000000 \
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

Runs in a fresh schema that it drops at the end (--keep to keep it). See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from bench.breakdown import PHASES, Breakdown
from bench.lag import LagResult, measure_lag
from bench.report import machine_lines, percentile
from bench.seeding import seed_store
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings

TARGET_RATIO = 0.5
console = Console()


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


@dataclass
class Rate:
    events: int
    seconds: float
    cpu: float = 0.0  # this process's CPU seconds over the same span

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


# --- phases ---------------------------------------------------------------------------


def seed(container: Container, args: argparse.Namespace) -> Rate:
    """Insert `args.events` real domain events, with a progress bar."""
    began = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("seeding", total=args.events)
        written = seed_store(
            container,
            args.events,
            chunk=args.chunk,
            people=args.people,
            live=args.live,
            seed=args.seed,
            in_process=args.seed_in_process,
            on_progress=lambda done: bar.update(task, completed=done),
        )
    return Rate(written, time.perf_counter() - began)


def vacuum(container: Container) -> None:
    """Set hint bits and statistics once, so neither measurement pays for them alone."""
    recorder = container.app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
    with psycopg.connect(container.settings.database.url.split("?")[0], autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {table}")


def measure_raw(container: Container, limit: int) -> tuple[Rate, float]:
    """Read every notification in batches and decode each; also the fetch-only seconds."""
    recorder, decode = container.app.recorder, container.app.mapper.to_domain_event
    head = recorder.max_notification_id() or 0
    start = applied = 0
    fetch = 0.0
    began, cpu = time.perf_counter(), time.process_time()
    with progress_bar() as bar:
        task = bar.add_task("raw decode", total=head)
        while True:
            t0 = time.perf_counter()
            batch = recorder.select_notifications(start + 1, limit)
            fetch += time.perf_counter() - t0
            if not batch:
                break
            for notification in batch:
                decode(notification)
            applied += len(batch)
            start = batch[-1].id
            bar.update(task, completed=start)
    return Rate(applied, time.perf_counter() - began, time.process_time() - cpu), fetch


def measure_rebuild(
    container: Container, batch_size: int, profile_to: str | None
) -> tuple[Rate, Breakdown]:
    runner = container.projector
    runner.batch_size = batch_size
    profiler = cProfile.Profile() if profile_to else None
    with progress_bar() as bar, Breakdown(runner) as breakdown:
        task = bar.add_task(f"rebuild {batch_size}", total=runner.lag() or None)

        def report(position: int, head: int) -> None:
            bar.update(task, completed=position, total=head)

        if profiler is not None:
            profiler.enable()
        applied = container.rebuild(report)
        if profiler is not None:
            profiler.disable()
    if profiler is not None and profile_to:
        profiler.dump_stats(profile_to)
        stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative")
        stats.print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
    return Rate(applied, breakdown.total, breakdown.python_cpu), breakdown


# --- the run ----------------------------------------------------------------------------


@contextmanager
def fresh_schema(database_url: str, keep: bool) -> Iterator[str]:
    """A new schema for this run, dropped at its end; yields the URL naming it."""
    base = database_url.split("?")[0]
    schema = f"bench_{uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?schema={schema}"
    finally:
        if keep:
            console.print(f"kept schema {schema}")
        else:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--events", type=int, default=1_000_000, help="events to seed (default 1,000,000)")
    add(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server and database; a fresh schema is made inside it",
    )
    add("--batch-size", default="5000", help="the projector's batch size; a comma list runs each")
    add("--read-limit", type=int, default=5000, help="notifications per raw read")
    add("--chunk", type=int, default=5000, help="events per insert while seeding")
    add("--people", type=int, default=300)
    add("--live", type=int, default=2000, help="agreements in progress at once")
    add("--seed", type=int, default=42, help="random seed of the workload")
    add(
        "--seed-in-process",
        action="store_true",
        help="make the events in this process (default: a producer process overlaps it)",
    )
    add("--lag-seconds", type=float, default=20.0)
    add("--lag-rate", type=float, default=25.0, help="commands per second during the lag test")
    add("--profile", metavar="FILE", help="cProfile the (first) rebuild into FILE and print it")
    add("--keep", action="store_true", help="keep the schema (for inspection)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = [int(s) for s in args.batch_size.split(",")]
    started = datetime.now(UTC)
    machine = machine_lines(args.database_url.split("?")[0])  # the code as it was started
    with fresh_schema(args.database_url, args.keep) as url:
        container = bootstrap(Settings(database_url=url, jwt_secret=None))
        try:
            seeded = seed(container, args)
            console.print(f"seeded {seeded.events:,} events in {seeded.seconds:.1f} s")
            vacuum(container)
            raw, fetch = measure_raw(container, args.read_limit)
            console.print(f"raw read+decode: {raw.per_second:,.0f} events/s")
            container.prepare()
            rebuilds = []
            for i, size in enumerate(sizes):
                rate, breakdown = measure_rebuild(container, size, args.profile if i == 0 else None)
                console.print(f"rebuild (batch_size={size}): {rate.per_second:,.0f} events/s")
                rebuilds.append((size, rate, breakdown))
            with progress_bar() as bar:
                task = bar.add_task("lag load", total=round(args.lag_seconds * args.lag_rate))
                lag = measure_lag(
                    container,
                    args.lag_seconds,
                    args.lag_rate,
                    on_tick=lambda done: bar.update(task, completed=done),
                )
        finally:
            container.close()
        lines = summary(args, started, machine, seeded, raw, fetch, rebuilds, lag)
    console.print()
    print("\n".join(lines))
    return 0


def cpu_ratio(raw: Rate, rebuild: Rate) -> float:
    if not (raw.events and rebuild.events and rebuild.cpu):
        return float("nan")
    return (raw.cpu / raw.events) / (rebuild.cpu / rebuild.events)


def summary(
    args: argparse.Namespace,
    started: datetime,
    machine: list[str],
    seeded: Rate,
    raw: Rate,
    fetch: float,
    rebuilds: list[tuple[int, Rate, Breakdown]],
    lag: LagResult,
) -> list[str]:
    best_size, best, _ = max(rebuilds, key=lambda r: r[1].per_second)
    ratio = best.per_second / raw.per_second
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    lines = [
        f"### Rebuild throughput and projection lag ({started:%Y-%m-%d %H:%M} UTC)",
        "",
        f"`python -m bench.rebuild_throughput --events {args.events} "
        f"--batch-size {args.batch_size} --lag-rate {args.lag_rate:g} "
        f"--lag-seconds {args.lag_seconds:g}`",
        "",
        *machine,
        f"- seeded {seeded.events:,} events ({args.people} people, {args.live} agreements "
        f"in flight) in {seeded.seconds:.1f} s ({seeded.per_second:,.0f} events/s)",
        f"- raw read+decode (select_notifications by {args.read_limit} + to_domain_event): "
        f"**{raw.per_second:,.0f} events/s** ({raw.seconds:.1f} s; fetch alone "
        f"{fetch / raw.seconds:.0%} of it; CPU: Python {raw.cpu:.2f} s)",
    ]
    for size, rate, breakdown in rebuilds:
        shares = breakdown.shares()
        parts = ", ".join(f"{p} {shares[p] / rate.seconds:.0%}" for p in PHASES)
        lines.append(
            f"- rebuild, batch_size={size}: **{rate.per_second:,.0f} events/s** "
            f"({rate.seconds:.1f} s; {parts}; CPU: Python {breakdown.python_cpu:.1f} s, "
            f"PostgreSQL {breakdown.postgres_cpu:.1f} s)"
        )
    lines += [
        f"- ratio rebuild/raw (batch_size={best_size}): **{ratio:.2f}** — target "
        f">= {TARGET_RATIO} x raw: **{met}**",
        # Python CPU seconds per event, raw over rebuild: what other processes on a shared
        # machine do to wall times mostly leaves these alone.
        f"- ratio by this process's CPU per event, raw/rebuild (batch_size={best_size}): "
        f"**{cpu_ratio(raw, best):.2f}**",
        f"- projection lag, {lag.commands} commands at {args.lag_rate:g}/s over "
        f"{lag.seconds:.1f} s (projector thread woken by NOTIFY, probe polling every 1 ms): "
        f"p50 **{percentile(lag.lags_ms, 50):.1f} ms**, p99 **{percentile(lag.lags_ms, 99):.1f} "
        f"ms**, max {max(lag.lags_ms, default=float('nan')):.1f} ms"
        + (f", {lag.timed_out} timed out" if lag.timed_out else ""),
        f"- execute latency during that load: p50 {percentile(lag.execute_ms, 50):.1f} ms, "
        f"p99 {percentile(lag.execute_ms, 99):.1f} ms",
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
