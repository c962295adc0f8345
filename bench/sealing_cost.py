"""What sealing personal data costs: commands end to end and rebuild throughput with
sealing on, beside the same measurements with it off, in the same run (the target:
sealing costs at most 10%).

    python -m bench.sealing_cost --events 50000 --clients 8 --seconds 20 \
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

Each measurement runs in a fresh schema that is dropped at the end. The baseline is the
service with `CRAFTING_SEAL_PERSONAL_DATA=0` (personal data in clear), otherwise the
same code, settings and load.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from datetime import UTC, datetime

from bench.commands_e2e import Run, build_org, drive, serving, show, upsert_org
from bench.rebuild_throughput import Rate, fresh_schema, measure_rebuild, vacuum
from bench.report import machine_lines, percentile
from bench.seeding import seed_store
from infra.bootstrap import bootstrap
from infra.settings import Settings

TARGET_COST = 0.10


def rebuild_rate(database_url: str, events: int, sealed: bool) -> Rate:
    with fresh_schema(database_url, False) as url:
        container = bootstrap(Settings(database_url=url))
        try:
            seed_store(container, events, sealed=sealed)
            vacuum(container)
            container.prepare()
            rate, _ = measure_rebuild(container, 5000, None)
        finally:
            container.close()
    return rate


def commands_run(args: argparse.Namespace, sealed: bool) -> Run:
    secret = secrets.token_urlsafe(48)
    settings = {
        "CRAFTING_SERVE_PROJECTIONS": "1",
        "CRAFTING_SEAL_PERSONAL_DATA": "1" if sealed else "0",
    }
    with (
        fresh_schema(args.database_url, False) as url,
        serving(url, secret, args.workers, settings) as server,
    ):
        org = build_org(secret, args.clients, 4, 5)
        upsert_org(server.base, org)
        return drive(server.base, org, 3, args.warmup, args.seconds)


def cost(off: float, on: float) -> str:
    share = (off - on) / off
    verdict = "met" if share <= TARGET_COST else "NOT met"
    return f"**{share:+.1%}** (target <= {TARGET_COST:.0%}: **{verdict}**)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    add("--events", type=int, default=50_000, help="events seeded for each rebuild")
    add("--clients", type=int, default=8)
    add("--seconds", type=float, default=20.0)
    add("--warmup", type=float, default=2.0)
    add("--workers", type=int, default=2)
    add("--rounds", type=int, default=2, help="off/on pairs, alternating (noise)")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    rebuilds: dict[bool, list[float]] = {False: [], True: []}
    commands: dict[bool, list[Run]] = {False: [], True: []}
    for _ in range(args.rounds):
        for sealed in (False, True):
            rate = rebuild_rate(args.database_url, args.events, sealed)
            rebuilds[sealed].append(rate.per_second)
            print(f"rebuild, sealing {'on' if sealed else 'off'}: {rate.per_second:,.0f} events/s")
        for sealed in (False, True):
            run = commands_run(args, sealed)
            commands[sealed].append(run)
            show(f"commands, sealing {'on' if sealed else 'off'}", run, "commands")
    rebuild = {s: max(v) for s, v in rebuilds.items()}
    per_second = {s: max(r.completed() / r.seconds for r in v) for s, v in commands.items()}
    p50 = {s: percentile([ms for r in v for ms in r.latencies()], 50) for s, v in commands.items()}
    lines = [
        f"### What sealing personal data costs ({started:%Y-%m-%d %H:%M} UTC)",
        "",
        f"`python -m bench.sealing_cost --events {args.events} --clients {args.clients} "
        f"--seconds {args.seconds:g} --workers {args.workers} --rounds {args.rounds}` (best "
        "of the rounds each; off and on alternate)",
        "",
        *machine_lines(args.database_url.split("?")[0]),
        f"- rebuild of {args.events:,} events: off **{rebuild[False]:,.0f}** events/s, on "
        f"**{rebuild[True]:,.0f}** events/s; cost {cost(rebuild[False], rebuild[True])}",
        f"- commands over HTTP ({args.clients} clients, `serve --workers {args.workers}`): off "
        f"**{per_second[False]:,.1f}** commands/s (p50 {p50[False]:.1f} ms), on "
        f"**{per_second[True]:,.1f}** commands/s (p50 {p50[True]:.1f} ms); cost "
        f"{cost(per_second[False], per_second[True])}",
    ]
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
