"""CPU seconds of one served insights request (`read_precomputed`, every table) on the
read-model tables `bench.insights` writes (SQLite, in this process: the SQL's time is
counted too). Process CPU time, not wall time, so a loaded machine still gives
comparable figures; run it on two checkouts alternately to compare them.

    python -m bench.insights_cpu --people 30000 --agreements 36000 --runs 15
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from sqlalchemy import create_engine

from bench.insights import NOW, facts, write_tables
from projections.insights.precomputed import read_precomputed
from projections.tables import read_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--agreements", type=int, default=36_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database", type=Path, required=True)
    args = parser.parse_args()
    rm = read_model(1)
    if not args.database.exists():
        write_tables(facts(args.people, args.agreements, random.Random(30)), rm, args.database)
    engine = create_engine(f"sqlite:///{args.database}")
    took = []
    with engine.connect() as conn:
        read_precomputed(conn, rm, 5, NOW)  # the closed months released once per process
        for _ in range(args.runs):
            start = time.process_time()
            read_precomputed(conn, rm, 5, NOW)
            took.append(time.process_time() - start)
    took.sort()
    p50, p95 = took[len(took) // 2], took[max(0, round(0.95 * len(took)) - 1)]
    print(f"served request, CPU seconds: p50 {p50:.3f}  p95 {p95:.3f}  ({args.runs} runs)")


if __name__ == "__main__":
    main()
