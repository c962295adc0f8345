"""What completing the `insights` GraphQL answer costs, apart from reading its tables:
CPU seconds of `schema.execute` of the query selecting every field (as
bench.insights_served sends it) over released tables of `--teams` teams (a row per team
in every table and in each of the 13 months of the three monthly series, as at 100,000
people in teams of 5-40), with the schema as served (api.graphql.plain_data) and with
graphql-core's completion field by field, alternated in one process, and the dashboard
query (bench.insights_served's (a)) as served. The answers are checked equal first.

    python -m bench.insights_graphql [--teams 4444] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from datetime import UTC, datetime
from functools import partial
from types import SimpleNamespace
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.graphql.insights.types import insights as as_graphql
from api.graphql.schema import CraftingSchema, build_schema
from bench.insights_served import DASHBOARD, QUERY
from domain.access import Actor
from domain.values import Role
from projections.insights.figures import Insights, Month, ReleasedRow, Table


def released(teams: int, rng: random.Random) -> Insights:
    def table(n: int = teams) -> Table:
        rows = tuple(
            ReleasedRow(
                f"team-{i:05d}",
                None if rng.random() < 0.05 else (rng.randint(0, 9), rng.randint(5, 30)),
                round(rng.random() * 10, 1),
            )
            for i in range(n)
        )
        return Table(rows, ReleasedRow("All", (100, 200), 3.3))

    def months() -> tuple[Month, ...]:
        return tuple(Month(f"2026-{m:02d}", table()) for m in range(1, 14))

    return Insights(
        5,
        datetime.now(UTC),
        table(),
        months(),
        table(),
        table(teams // 3),
        table(teams // 3),
        table(),
        table(20),
        table(),
        table(20),
        table(20),
        months(),
        months(),
    )


def cpu_of(
    schema: CraftingSchema, context: Any, query: str = QUERY, variables: Any = None
) -> tuple[float, str]:
    began = time.process_time()
    result = asyncio.run(schema.execute(query, variables, context_value=context))
    took = time.process_time() - began
    assert not result.errors, result.errors
    return took, json.dumps(result.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=4444)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    found = released(args.teams, random.Random(30))
    reads = SimpleNamespace(insights=lambda *_: found)
    context = SimpleNamespace(
        actor=Actor("hr-bench", frozenset({Role.HR})), ports=SimpleNamespace(reads=reads)
    )
    served = build_schema()
    stock = build_schema()
    stock.execution_context_class = StrawberryGraphQLCoreExecutionContext
    assert cpu_of(served, context)[1] == cpu_of(stock, context)[1], "the answers differ"
    one_team = {"teams": ["team-00007"]}
    dashboard = partial(cpu_of, context=context, query=DASHBOARD, variables=one_team)
    assert dashboard(served)[1] == dashboard(stock)[1], "the dashboard's answers differ"
    times: dict[str, list[float]] = {"served": [], "stock": [], "dashboard": []}
    for _ in range(args.runs):  # alternated: both meet the same moments of the machine
        times["served"].append(cpu_of(served, context)[0])
        times["stock"].append(cpu_of(stock, context)[0])
        times["dashboard"].append(dashboard(served)[0])
    began = time.process_time()
    as_graphql(found)
    convert = time.process_time() - began
    rows = sum(len(t.rows) for t in vars(found).values() if isinstance(t, Table))
    rows += sum(len(m.table.rows) for m in found.participation_by_month) * 3
    print(f"insights GraphQL completion, {args.teams:,} teams ({rows:,} rows), CPU seconds:")
    print(f"  baseline, field by field (graphql-core): p50 {statistics.median(times['stock']):.3f}")
    print(
        f"  as served (api.graphql.plain_data):      p50 {statistics.median(times['served']):.3f}"
    )
    print(f"  of which the strawberry objects (types.insights): {convert:.3f}")
    print(
        "  the dashboard query (bench.insights_served: every table, the months' totals and "
        f"one team's rows), as served: p50 {statistics.median(times['dashboard']):.3f}"
    )


if __name__ == "__main__":
    main()
