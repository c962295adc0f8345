"""Time travel: `agreementAt` on an agreement with 10,000 events, at a random version
and at a random instant. Target: p99 under 20 ms. Baseline in the same run: the same
lookups by full replay (no snapshots) and a linear scan for the instant.

    python -m bench.time_travel [--events 10000] [--database-url URL] [--samples 300]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
from eventsourcing.application import Repository

from bench.long_agreement import LongAgreement, lift_child_limits
from bench.lookup_breakdown import latest_snapshot_fields, lookup_steps
from bench.team import Team
from domain.agreement import Agreement
from domain.agreement.snapshot import CHUNKED, snapshot_step
from domain.application import CraftingApplication
from domain.snapshots import TaggedSnapshotStore, chunk_stream
from infra.bootstrap import Container, bootstrap
from infra.runtime import tune_gc
from infra.settings import Settings


def _database(url: str | None) -> str:
    if url is None:
        return f"sqlite:///{tempfile.mkdtemp()}/time-travel.db"
    schema = f"bench_tt_{uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{url}?schema={schema}"


def drop_schema(url: str) -> None:
    """Drop the schema `_database` made (a bench run leaves nothing behind on the
    shared server); nothing for SQLite (its file is in a temporary directory)."""
    base, _, query = url.partition("?")
    schema = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("schema")
    if url.startswith("sqlite") or not schema:
        return
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _history(container: Container, events: int) -> tuple[Team, UUID]:
    """One agreement with `events` events of every kind, grown through the service's
    handlers and saved in batches (bench.long_agreement)."""
    lift_child_limits()
    team = Team(container.app)
    agreement = LongAgreement(team, team.active().id)
    agreement.grow(events, progress=10_000 if events > 20_000 else 1_000)
    return team, agreement.aid


def snapshot_sizes(app: CraftingApplication, aid: UUID) -> tuple[int, int, int]:
    """How many snapshots of the agreement are stored, their bytes (with the chunks of
    its logs they share: domain.snapshots), and the latest's."""
    if app.snapshots is None:
        return 0, 0, 0
    stored = list(app.snapshots.recorder.select_events(aid))
    total = sum(len(s.state) for s in stored)
    return len(stored), total + chunk_sizes(app, aid)[1], len(stored[-1].state) if stored else 0


def chunk_sizes(app: CraftingApplication, aid: UUID) -> tuple[int, int]:
    """How many chunks of the agreement's logs are stored, and their bytes."""
    store = app.snapshots
    if not isinstance(store, TaggedSnapshotStore) or store.chunks is None:
        return 0, 0
    chunks = [c for name in CHUNKED for c in store.chunks.select_events(chunk_stream(aid, name))]
    return len(chunks), sum(len(c.state) for c in chunks)


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered):7.2f} ms  p99 {p99:7.2f} ms  "
        f"max {ordered[-1]:7.2f} ms  (n={len(ordered)})"
    )


CPU: dict[str, list[float]] = {}  # each timed lookup's CPU ms, by its name
SLOWEST: dict[str, list[tuple[float, float, str]]] = {}  # name: (wall, CPU, collections)
_COLLECTED: list[tuple[int, float]] = []  # (generation, CPU ms) of each collection


def _watch_gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _COLLECTED.append((info["generation"], time.process_time()))
    elif _COLLECTED:
        generation, started = _COLLECTED[-1]
        _COLLECTED[-1] = (generation, (time.process_time() - started) * 1000)


def _time(fn: Callable[[], Any], n: int, name: str = "") -> list[float]:
    """Wall milliseconds of `n` calls (their CPU milliseconds kept in CPU[name]): on a
    shared machine the wall time is the load's, the CPU time the code's. The cyclic
    collections during each call are noted, to tell a slow sample's cause."""
    out, cpu = [], CPU.setdefault(name, [])
    slow = SLOWEST.setdefault(name, [])
    gc.callbacks.append(_watch_gc)
    try:
        for _ in range(n):
            _COLLECTED.clear()
            start, started = time.perf_counter(), time.process_time()
            fn()
            cpu.append((time.process_time() - started) * 1000)
            out.append((time.perf_counter() - start) * 1000)
            collected = " ".join(f"gen{g} {ms:.1f} ms CPU" for g, ms in _COLLECTED) or "none"
            slow.append((out[-1], cpu[-1], collected))
    finally:
        gc.callbacks.remove(_watch_gc)
    slow.sort(reverse=True)
    del slow[3:]
    return out


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--baseline-samples", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument(
        "--gc",
        choices=("serve", "default"),
        default="serve",
        help="collector settings: as `crafting serve` sets them after startup "
        "(infra.runtime.tune_gc, default), or CPython's defaults",
    )
    args = parser.parse_args()
    url = _database(args.database_url)
    try:
        _run(args, url)
    finally:
        drop_schema(url)


def _run(args: argparse.Namespace, url: str) -> None:
    container = bootstrap(Settings(database_url=url))
    if args.gc == "serve":
        tune_gc()
    app = container.app
    print(
        f"Building an agreement with {args.events} events on "
        f"{'PostgreSQL' if args.database_url else 'SQLite'} ..."
    )
    started = time.perf_counter()
    team, aid = _history(container, args.events)
    count, total, latest = snapshot_sizes(app, aid)
    chunks, chunk_bytes = chunk_sizes(app, aid)
    print(
        f"Seeded in {time.perf_counter() - started:.0f} s; {count} snapshots stored, "
        f"{total / 1e6:.1f} MB in all (of which {chunks} chunks of its logs, "
        f"{chunk_bytes / 1e6:.1f} MB), the latest {latest / 1e6:.2f} MB"
    )
    auditor = team.auditor.actor
    history = app.history(aid)
    versions, first, last = len(history), history[0].timestamp, history[-1].timestamp
    # The decoded history is the bench's heap, not a served process's: held through the
    # lookups, its objects were walked by every older-generation collection, which made
    # the slowest lookups (bench/RESULTS.md, tenth session).
    del history
    gc.collect()
    span = (last - first).total_seconds()
    rng = random.Random(11)

    def at_version() -> Agreement:
        return app.agreement_at(auditor, aid, version=rng.randint(1, versions))

    def at_instant() -> Agreement:
        instant = first + timedelta(seconds=rng.uniform(0, span))
        return app.agreement_at(auditor, aid, at=instant)

    # Baseline: no snapshots (full replay) and a linear scan over the timestamps.
    replay = Repository(app.events)

    def baseline_version() -> Agreement:
        agreement: Agreement = replay.get(aid, version=rng.randint(1, versions))
        return agreement

    def baseline_instant() -> Agreement:
        instant = first + timedelta(seconds=rng.uniform(0, span))
        version = max(e.originator_version for e in app.history(aid) if e.timestamp <= instant)
        agreement: Agreement = replay.get(aid, version=version)
        return agreement

    at_version()  # warm caches and the connection pool
    results = {
        "agreementAt(version)": _time(at_version, args.samples, "agreementAt(version), CPU"),
        "agreementAt(at)": _time(at_instant, args.samples, "agreementAt(at), CPU"),
        "baseline: full replay at a version": _time(baseline_version, args.baseline_samples),
        "baseline: linear scan + full replay at an instant": _time(
            baseline_instant, args.baseline_samples
        ),
    }
    print(
        f"\nTime travel on one agreement with {versions} events (snapshots every "
        f"{snapshot_step(versions)} events at its end; collector settings: {args.gc}):"
    )
    for name, samples in [*results.items(), *((n, c) for n, c in CPU.items() if n)]:
        print(f"  {name:52} {_percentiles(samples)}")
    base = statistics.median(results["baseline: full replay at a version"])
    ours = statistics.median(results["agreementAt(version)"])
    p99 = sorted(results["agreementAt(at)"] + results["agreementAt(version)"])
    worst = p99[int(len(p99) * 0.99)]
    print(
        f"  speed-up at a version (median): {base / ours:.1f}x; target p99 < 20 ms: "
        f"{'met' if worst < 20 else 'MISSED'} ({worst:.2f} ms)"
    )

    def instant_to_version() -> int | None:
        instant = first + timedelta(seconds=rng.uniform(0, span))
        return app._version_at(aid, instant, versions)

    search = _time(instant_to_version, min(args.samples, 100), "instant -> version, CPU")
    print(f"  {'instant -> version alone (wall)':52} {_percentiles(search)}")
    print(f"  {'instant -> version alone (CPU)':52} {_percentiles(CPU['instant -> version, CPU'])}")
    print("The slowest samples (wall, CPU) and the cyclic collections during each:")
    for name, slowest in SLOWEST.items():
        if name:
            for wall, spent, collected in slowest:
                print(f"  {name:40} {wall:7.2f} ms {spent:7.2f} ms  collections: {collected}")
    print("Where a lookup at a version goes (CPU ms), and the latest snapshot's fields:")
    for step, samples in lookup_steps(app, aid, versions, min(args.samples, 100)).items():
        print(f"  {step:52} {_percentiles(samples)}")
    fields = latest_snapshot_fields(app, aid)
    print(
        "  " + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in list(fields.items())[:6])
    )
    container.close()


if __name__ == "__main__":
    main()
