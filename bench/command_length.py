"""What one command costs as its agreement grows (the write model alone, in memory).

    python -m bench.command_length [--events 30000] [--window 2000]

One agreement through `CraftingApplication.execute` on an in-memory SQLite database
(the service's store settings and aggregate cache; no disk, so only the work of the
command, its loading, copying and snapshots), with
the per-agreement child limits lifted, in the time-travel benchmark's mix (reviews,
artifacts, added and reverted adjustments, guardrail changes). Prints the mean CPU
milliseconds per command in each window of `--window` events, beside the first
window's (the same run's baseline): flat means the ratio stays near 1.
"""

from __future__ import annotations

import argparse
import time

from bench.team import Team
from bench.time_travel import command_at
from domain.agreement import CHILD_LIMITS
from domain.application import CraftingApplication
from infra.persistence import eventsourcing_env
from infra.runtime import tune_gc


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--window", type=int, default=2_000)
    args = parser.parse_args()
    for kind in CHILD_LIMITS:
        CHILD_LIMITS[kind] = 10**9
    # The service's store settings and aggregate cache, on an in-memory SQLite database
    # (indexed reads as on a server, no disk; the library's POPO store scans).
    env = eventsourcing_env("sqlite:///:memory:")
    app = CraftingApplication(env=env, snapshot_key=b"bench" * 8)
    tune_gc()  # as `crafting serve` sets the collector
    team = Team(app)
    aid = team.active().id
    command = command_at(app, aid)
    print(f"One agreement to {args.events:,} events; CPU ms per command by window:")
    version, base = 2, None
    while version < args.events:
        started, commands = time.process_time(), 0
        end = version + args.window
        while version < end:
            version = team.run(team.manager, command()).version
            commands += 1
        ms = (time.process_time() - started) * 1000 / commands
        base = base or ms
        snapshots = sum(1 for _ in app.snapshots.get(aid)) if app.snapshots else 0
        print(
            f"  to {version:7,} events: {ms:6.2f} ms/command ({ms / base:4.1f}x the first "
            f"window; {snapshots} snapshots stored)",
            flush=True,
        )
    app.close()


if __name__ == "__main__":
    main()
