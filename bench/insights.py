"""How long the insight tables take to compute and suppress for a large organisation.

    python -m bench.insights [--people 100000] [--agreements 120000] [--runs 7]

Synthetic facts (what `projections.insights.facts.read_facts` returns) for `--people`
people in teams of 5-40, each with a join and sometimes a team move over the last year,
and `--agreements` agreements (about 10 events each in the log: 120,000 is ~1.2M
events) with approvals, ends and outcomes spread over the year. Prints p50/p95 of
`compute` over `--runs` runs, beside the baseline measured in the same run: one plain
pass grouping the people by team at one instant (what any table must at least do).
The SQL read of the facts is not included (see docs/insights.md, Limits)."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from projections.insights.facts import AgreementFacts, Facts, Membership
from projections.insights.figures import compute

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
YEAR_AGO = NOW - timedelta(days=365)
ROLES = ["Product manager", "Engineering manager", "Designer", "Data analyst", "Staff engineer"]
KINDS = ["MOVED_TO_TARGET_ROLE", "PROMOTED_IN_PLACE", "SKILLS_DEMONSTRATED", "STOPPED"]


def facts(people: int, agreements: int, rng: random.Random) -> Facts:
    memberships: dict[str, list[Membership]] = {}
    team, left = 0, 0
    for i in range(people):
        if left == 0:
            team, left = team + 1, rng.randint(5, 40)
        left -= 1
        pid = f"p{i}"
        joined = YEAR_AGO + timedelta(days=rng.randint(-400, 300))
        history = [Membership(joined, f"team-{team}", True)]
        if rng.random() < 0.1:
            history.append(
                Membership(joined + timedelta(days=rng.randint(1, 60)), f"team-{team + 1}", True)
            )
        memberships[pid] = history
    made = []
    for n in range(agreements):
        approved = YEAR_AGO + timedelta(days=rng.randint(0, 364), seconds=rng.randint(0, 86_399))
        ended = approved + timedelta(days=rng.randint(30, 200)) if rng.random() < 0.5 else None
        agreement = AgreementFacts(
            f"a{n}",
            f"p{rng.randrange(people)}",
            "COMPLETED" if ended and ended < NOW else "ACTIVE",
            rng.choice(ROLES),
            rng.choice([0.0, 2.0, 4.0]),
            (NOW + timedelta(days=rng.randint(-20, 20))).date(),
            approved_at=approved,
            ended_at=ended if ended and ended < NOW else None,
        )
        if agreement.ended_at is not None and rng.random() < 0.6:
            on = min(agreement.ended_at.date() + timedelta(days=rng.randint(0, 60)), NOW.date())
            agreement.outcomes.append((f"o{n}", rng.choice(KINDS), on))
        made.append(agreement)
    reallocations = [
        (f"p{rng.randrange(people)}", f"p{rng.randrange(people)}", 1.0)
        for _ in range(agreements // 10)
    ]
    return Facts(memberships, {f"p{i}": 40.0 for i in range(people)}, made, reallocations)


def baseline(found: Facts) -> None:
    teams: dict[str, int] = {}
    for history in found.memberships.values():
        current = [m for m in history if m.since <= NOW]
        if current:
            teams[current[-1].team_id or ""] = teams.get(current[-1].team_id or "", 0) + 1


def timed(call: object, runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        took.append(time.perf_counter() - start)
    return took


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--agreements", type=int, default=120_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    found = facts(args.people, args.agreements, random.Random(30))
    base = timed(lambda: baseline(found), args.runs)
    full = timed(lambda: compute(found, 5, NOW), args.runs)
    print(f"insights over {args.people:,} people, {args.agreements:,} agreements ({date.today()})")
    for name, took in (("baseline (group by team once)", base), ("compute (every table)", full)):
        print(f"  {name}: p50 {statistics.median(took):.3f} s  p95 {p95(took):.3f} s")


if __name__ == "__main__":
    main()
