"""HRIS read (bench.hris_read's query and load) on a primary alone, then on the same
primary with a streaming replica taking the reads (CRAFTING_READ_DATABASE_URL), in the
same run.

Starts its own primary and replica (bench/replication.py: this machine's PostgreSQL
binaries, two clusters on free ports), seeds N agreements on the primary, waits until
the replica has replayed them, then loads `crafting serve` once without and once with
the replica. On one machine both clusters share the same cores and disk: see
bench/README.md for what this can and cannot show.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
from dataclasses import dataclass
from datetime import timedelta
from uuid import uuid4

import psycopg

from api.http.auth import mint_token
from bench.commands_e2e import serving
from bench.hris_read import OURS, Load, measured, seed
from bench.rebuild_throughput import fresh_schema
from bench.replication import Replication
from bench.report import machine_lines
from domain.values import Role

TRANSACTIONS = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"


@dataclass
class Run:
    load: Load
    replica_transactions: int  # committed on the replica during the run (its reads)


def transactions(url: str) -> int:
    """Transactions committed in the replica's database so far (reads included)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(TRANSACTIONS).fetchone()
    return 0 if row is None else int(row[0])


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--agreements", type=int, default=10_000)
    add("--live", type=int, default=2000, help="agreements in progress at once while seeding")
    add("--connections", type=int, default=20)
    add("--workers", type=int, default=2, help="worker processes of the server")
    add("--seconds", type=float, default=20.0)
    add("--warmup", type=float, default=3.0)
    add("--pages", type=int, default=20, help="pages the load walks in turn")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (see bench/README.md)", file=sys.stderr)
        return 2
    secret = secrets.token_urlsafe(48)
    token = mint_token(secret, f"hris-{uuid4().hex[:6]}", [Role.INTEGRATION], timedelta(hours=2))
    pair = Replication(max_connections=100).start()
    runs: list[Run] = []
    try:
        with fresh_schema(pair.primary_url, keep=False) as url:
            events = seed(url, args.agreements, args.live)
            pair.wait_replayed(timeout=300)
            serve = {"CRAFTING_SERVE_PROJECTIONS": "0"}
            for label, extra in (
                ("primary alone", {}),
                ("primary + replica", {"CRAFTING_READ_DATABASE_URL": pair.replica_url}),
            ):
                with serving(url, secret, args.workers, serve | extra) as server:
                    before = transactions(pair.replica_url)
                    load = measured(server, token, OURS, "agreements", label, args)
                    runs.append(Run(load, transactions(pair.replica_url) - before))
            summary(args, events, runs, pair.primary_url)
    finally:
        pair.close()
    return 1 if any(r.load.errors for r in runs) else 0


def summary(args: argparse.Namespace, events: int, runs: list[Run], primary: str) -> None:
    baseline = runs[0].load
    print("\n## HRIS read on a primary alone vs primary + streaming replica (same machine)\n")
    print(*machine_lines(primary), sep="\n")
    print("- primary and replica: two clusters on this machine (bench/replication.py)")
    print(
        f"- {args.agreements:,} agreements ({events:,} events); {args.connections} connections "
        f"(wrk -t2), {args.seconds:g} s after {args.warmup:g} s warm-up, {args.workers} worker "
        f"processes, {args.pages} pages in turn"
    )
    print(f"- command: python -m bench.replica_read {' '.join(sys.argv[1:])}\n")
    print(
        "| reads on | requests/s | p50 ms | p99 ms | vs primary alone "
        "| CPU ms/request: server, PostgreSQL (both clusters) | replica transactions | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        x = run.load
        ratio = x.requests_per_second / baseline.requests_per_second
        cpu = f"{x.server_cpu_ms or 0:.1f}, {x.postgres_cpu_ms or 0:.1f}"
        print(
            f"| {x.label} | {x.requests_per_second:,.1f} | {x.p50_ms:.1f} | {x.p99_ms:.1f} "
            f"| {ratio:.2f}x | {cpu} | {run.replica_transactions:,} | {x.errors} |"
        )


if __name__ == "__main__":
    sys.exit(main())
