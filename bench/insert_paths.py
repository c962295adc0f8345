"""Write throughput of the PostgreSQL insert paths under concurrent writers.

    python -m bench.insert_paths --writers 8 --seconds 10 --rounds 3

Each round runs every path in turn, each on a fresh schema, with the same commands as
the commands benchmark's bare baseline (`Application.save` of one agreement per
writer, a save per command):

- `ordered function` (ours, `infra.postgres_store`): the library's insert function with
  the EXCLUSIVE table lock: one round trip, commit order = position order (safe);
- `library lock path`: the library's default insert (pipelined statements, the same
  lock; safe);
- `library function`: the library's insert function as 9.5.6 ships it, no lock
  (**unsafe**: tailing readers skip events; shown only to price the lock).

Prints saves/s and latency per path and the ratio of each to the library lock path,
measured in the same round.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from bench.commands_e2e import BareApp, Run, Sample, bare_worker, window
from bench.rebuild_throughput import fresh_schema
from bench.report import percentile
from infra.persistence import eventsourcing_env

console = Console()
PATHS: dict[str, dict[str, str]] = {
    "ordered function": {
        "PERSISTENCE_MODULE": "infra.postgres_store:CraftingPostgresFactory",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
    },
    "library lock path": {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    },
    "library function (unsafe)": {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
    },
}
BASELINE = "library lock path"


def measure(url: str, path: dict[str, str], writers: int, seconds: float) -> Run:
    env = eventsourcing_env(url) | path
    env |= {"POSTGRES_POOL_SIZE": str(writers), "POSTGRES_MAX_OVERFLOW": "0"}
    app = BareApp(env=env)
    try:
        began = time.perf_counter()
        deadline = began + 1.0 + seconds  # one second of warm-up
        per_writer: list[list[Sample]] = [[] for _ in range(writers)]
        threads = [
            threading.Thread(target=bare_worker, args=(app, 4, deadline, samples))
            for samples in per_writer
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return window([s for ss in per_writer for s in ss], began, 1.0, seconds)
    finally:
        app.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    add("--writers", type=int, default=8)
    add("--seconds", type=float, default=10.0)
    add("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[str, list[Run]] = {name: [] for name in PATHS}
    for round_ in range(args.rounds):
        for name, path in PATHS.items():
            with fresh_schema(args.database_url, keep=False) as url:
                run = measure(url, path, args.writers, args.seconds)
            results[name].append(run)
            console.print(f"round {round_ + 1}: {name}: {run.per_second:,.0f} saves/s")
    table = Table(title=f"{args.writers} writers, {args.seconds:g} s x {args.rounds} rounds")
    for column in ("path", "saves/s (median)", "p50 ms", "p99 ms", f"vs {BASELINE}"):
        table.add_column(column)
    median: Callable[[list[float]], float] = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    for name, runs in results.items():
        ratios = [r.per_second / b.per_second for r, b in zip(runs, results[BASELINE], strict=True)]
        latencies = [ms for r in runs for ms in r.latencies()]
        table.add_row(
            name,
            f"{median([r.per_second for r in runs]):,.0f}",
            f"{percentile(latencies, 50):.1f}",
            f"{percentile(latencies, 99):.1f}",
            f"{median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})",
        )
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
