"""What replaying an agreement's events costs with the library's projector (which
checks each event against a runtime protocol) and with `domain.application.replay`,
alternating in one process, in CPU time (the machine's load does not enter it).

    python -m bench.replay_cost [--events 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from eventsourcing.application import Repository

from bench.long_agreement import LongAgreement, lift_child_limits
from bench.team import Team
from domain.application import CraftingApplication
from domain.application.replay import ReplayingRepository
from infra.persistence import eventsourcing_env


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    lift_child_limits()
    app = CraftingApplication(env=eventsourcing_env("sqlite:///:memory:"))  # no snapshots
    team = Team(app)
    agreement = LongAgreement(team, team.active().id)
    agreement.grow(args.events)
    library, ours = Repository(app.events), ReplayingRepository(app.events)
    assert library.get(agreement.aid) == ours.get(agreement.aid)
    runs: dict[str, list[float]] = {"library's projector": [], "replay": []}
    replays: dict[str, Callable[[], object]] = {
        "library's projector": lambda: library.get(agreement.aid),
        "replay": lambda: ours.get(agreement.aid),
    }
    for _ in range(args.rounds):
        for name, run in replays.items():
            started = time.process_time()
            run()
            runs[name].append((time.process_time() - started) * 1e6 / args.events)
    print(f"Full replay of {args.events:,} events, CPU µs per event (median of {args.rounds}):")
    for name, samples in runs.items():
        print(
            f"  {name:22} {statistics.median(samples):7.1f}  "
            f"(min {min(samples):.1f}, max {max(samples):.1f})"
        )
    app.close()


if __name__ == "__main__":
    main()
