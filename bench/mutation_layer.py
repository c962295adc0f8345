"""CPU of the GraphQL layer alone for the commands benchmark's mutations.

    python -m bench.mutation_layer [--calls 300] [--rounds 5]

`Schema.execute` of `bench.commands_e2e`'s documents with the command replaced by a
prepared result (no database, no HTTP): what strawberry's execution and the thread hop
cost per command, in `process_time`, so other processes' load does not move it. Run it
against another tree with `PYTHONPATH=<tree>` to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from datetime import date
from types import SimpleNamespace
from typing import Any, cast
from uuid import uuid4

from api.graphql.context import Context
from api.graphql.ids import global_id
from api.graphql.schema import build_schema
from api.ports import Ports
from bench.commands_e2e import QUERIES
from domain.access import Actor
from domain.agreement import Agreement
from domain.application import Request
from domain.application import commands as c
from domain.application.commands import CommandResult
from domain.metadata import Meta
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Guardrails, Role


def prepared_agreement() -> Agreement:
    """An approved agreement with two adjustments (the benchmark's are this size)."""

    def meta(actor: str, role: str) -> Meta:
        return Meta(actor, role, str(uuid4()), None)

    goal = CareerGoal("Product manager", ("research",))
    drafts = [AdjustmentDraft(AdjustmentKind.TASK, "Write one feature brief", 1)]
    agreement = Agreement.propose("emp", "Tester to PM", goal, drafts, meta("emp", "EMPLOYEE"))
    rails = Guardrails(8, ("Release sign-off",), 14)
    agreement.approve("mgr", rails, date(2026, 11, 2), meta("mgr", "MANAGER"))
    draft = AdjustmentDraft(AdjustmentKind.COGNITIVE, "Research", 1)
    agreement.add_adjustment(draft, meta("mgr", "MANAGER"))
    return agreement


class PreparedCommands:
    """Answers every command with the same result."""

    def __init__(self, result: CommandResult) -> None:
        self.result = result

    def execute(self, request: Request, command: c.Command) -> CommandResult:
        return self.result


async def measure(calls: int, rounds: int) -> dict[str, float]:
    agreement = prepared_agreement()
    commands = PreparedCommands(CommandResult(position=42, agreement=agreement))
    ports = cast(Ports, SimpleNamespace(commands=commands, reads=SimpleNamespace(compiled=False)))
    actor = Actor("mgr", frozenset({Role.MANAGER, Role.EMPLOYEE}))
    context = Context(ports, actor, "bench", cast(Any, None))
    schema = build_schema()
    aid = global_id("Agreement", str(agreement.id))
    rails = {"maxDevelopmentHoursPerWeek": 8, "reviewEveryDays": 14}
    inputs: dict[str, dict[str, Any]] = {
        "recordReview": {"agreementId": aid, "outcome": "ON_TRACK", "notes": "Going well"},
        "addAdjustment": {
            "agreementId": aid,
            "adjustment": {"kind": "COGNITIVE", "description": "R", "hoursPerWeek": 1},
        },
        "approveAgreement": {"agreementId": aid, "guardrails": rails},
    }
    for name, fields in inputs.items():  # warm the caches; any error stops the run
        result = await schema.execute(QUERIES[name], {"input": fields}, context_value=context)
        if result.errors:
            raise RuntimeError(f"{name}: {result.errors}")
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, fields in inputs.items():
            started = time.process_time()
            for _ in range(calls):
                await schema.execute(QUERIES[name], {"input": fields}, context_value=context)
            ms = (time.process_time() - started) / calls * 1000
            best[name] = min(best.get(name, ms), ms)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=300, help="calls per round and mutation")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (the best is kept)")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # the prepared commands are not worth a log line
    best = asyncio.run(measure(args.calls, args.rounds))
    for name, ms in best.items():
        print(f"{name}: {ms:.3f} ms of CPU per Schema.execute (best of {args.rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
