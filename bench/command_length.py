"""What one command costs as its agreement grows (the write model alone, in memory).

    python -m bench.command_length [--events 30000] [--window 2000]

One agreement on an in-memory SQLite database (the service's store settings and
aggregate cache; no disk, so only the work of the command, its loading, copying and
snapshots), with the per-agreement child limits lifted, in the time-travel benchmark's
mix (reviews, artifacts, added and reverted adjustments, guardrail changes). Each window
of `--window` events is grown quickly (bench.long_agreement: the service's handlers,
saved in batches), and its last events run one command at a time through
`CraftingApplication.execute`, timed: whole snapshot steps there (`snapshot_step`), at
least 500 events, ending at a snapshot, so each figure carries the snapshots' share as
the service pays it; only `execute` is timed (not drawing the next command).
Prints the mean CPU milliseconds per command beside the
first window's (the same run's baseline): flat means the ratio stays near 1. With
`--all`, every command runs through `execute` (the figure of earlier sessions; slow
past 20,000 events).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.long_agreement import LongAgreement, lift_child_limits
from bench.team import Team
from domain.agreement.snapshot import snapshot_step
from domain.application import CraftingApplication
from infra.persistence import eventsourcing_env
from infra.runtime import tune_gc


def timed_span(end: int) -> int:
    """Events timed before a window's `end`: whole snapshot steps, at least 500 events,
    ending at a snapshot."""
    step = snapshot_step(end)
    return step * max(1, 500 // step) + end % step


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--window", type=int, default=2_000)
    parser.add_argument("--all", action="store_true", help="every command through execute")
    args = parser.parse_args()
    lift_child_limits()
    # The service's store settings and aggregate cache, on an in-memory SQLite database
    # (indexed reads as on a server, no disk; the library's POPO store scans).
    env = eventsourcing_env("sqlite:///:memory:")
    app = CraftingApplication(env=env, snapshot_key=b"bench" * 8)
    tune_gc()  # as `crafting serve` sets the collector
    # The CPU of taking snapshots, apart (a snapshot's size is the history's).
    snapshot_cpu = [0.0]
    take_snapshot = app.take_snapshot

    def timed_take_snapshot(*args: Any, **kwargs: Any) -> None:
        started = time.process_time()
        take_snapshot(*args, **kwargs)
        snapshot_cpu[0] += time.process_time() - started

    app.take_snapshot = timed_take_snapshot  # type: ignore[method-assign]
    team = Team(app)
    agreement = LongAgreement(team, team.active().id)
    print(f"One agreement to {args.events:,} events; CPU ms per command by window:")
    version, base = agreement.current().version, None
    while version < args.events:
        end = min(args.events, version + args.window)
        timed_from = version if args.all else max(version, end - timed_span(end))
        grown = time.perf_counter()
        version = agreement.grow(timed_from) if timed_from > version else version
        grown = time.perf_counter() - grown
        cpu, commands, snapshot_cpu[0] = 0.0, 0, 0.0
        while version < end:
            command = agreement.next_command()  # drawn outside the timing
            started = time.process_time()
            result = app.execute(agreement.request, command)
            cpu += time.process_time() - started
            assert result.agreement is not None
            version = result.agreement.version
            agreement.saw_last()
            commands += 1
        ms = cpu * 1000 / commands
        in_snapshots = snapshot_cpu[0] * 1000 / commands
        base = base or ms
        snapshots = (
            sum(1 for _ in app.snapshots.recorder.select_events(agreement.aid))
            if app.snapshots
            else 0
        )
        print(
            f"  to {version:7,} events: {ms:6.2f} ms/command over the last {commands:,}, "
            f"{in_snapshots:5.2f} of it taking snapshots ({ms / base:4.1f}x the first "
            f"window; {snapshots} snapshots stored; "
            f"grown in {grown:.0f} s)",
            flush=True,
        )
    app.close()


if __name__ == "__main__":
    main()
