"""Helpers for read-model tests: a random workload and table snapshots."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, select

from domain.application import commands as c
from domain.errors import DomainError, Forbidden
from domain.person import Profile
from domain.values import AdjustmentDraft, CareerGoal, Role
from projections.queries import live_read_model
from tests.support import Org, guardrails, request

KINDS = ["TASK", "RELATIONAL", "COGNITIVE", "RESOURCE"]


def random_workload(org: Org, rng: random.Random, steps: int, between: Any = None) -> int:
    """Run `steps` random commands (many refused, as in real life); returns successes.
    `between()` is called after each step (to project incrementally)."""
    app = org.app
    employees = [org.employee_id, org.mate_id, org.mate2_id]
    agreements: list[Any] = []
    ended: list[Any] = []  # outcomes are recorded (and reverted) on these
    ok = 0
    for _ in range(steps):
        roll = rng.random()
        try:
            if ended and rng.random() < 0.1:
                app.execute(*_outcome_step(org, rng, rng.choice(ended)))
            elif roll < 0.12 or not agreements:
                who = rng.choice(employees)
                result = app.execute(
                    request(who, Role.EMPLOYEE),
                    c.ProposeAgreement(
                        title=f"Plan {rng.randint(1, 999)}",
                        career_goal=CareerGoal("Product manager", ("research",)),
                        adjustments=[
                            AdjustmentDraft(
                                rng.choice(KINDS),
                                "Brief",  # type: ignore[arg-type]
                                rng.choice([0, 1, 2]),
                            )
                        ],
                    ),
                )
                assert result.agreement is not None
                agreements.append(result.agreement.id)
            else:
                aid = rng.choice(agreements)
                result = app.execute(*_step(org, rng, aid, roll))
                if result.agreement is not None and result.agreement.status.is_final:
                    ended.append(aid)
            ok += 1
        except (DomainError, Forbidden):
            pass
        if between is not None:
            between()
    return ok


def _outcome_step(org: Org, rng: random.Random, aid: Any) -> tuple[Any, c.Command]:
    """Record an outcome of an ended agreement, or revert the one in effect."""
    if rng.random() < 0.35:
        return org.manager, c.RevertOutcome(agreement_id=aid, reason="Recorded by mistake")
    kind = rng.choice(["MOVED_TO_TARGET_ROLE", "SKILLS_DEMONSTRATED", "STOPPED"])
    return org.manager, c.RecordOutcome(agreement_id=aid, kind=kind, reason="Other plans")


def _step(org: Org, rng: random.Random, aid: Any, roll: float) -> tuple[Any, c.Command]:
    m = org.manager
    current = org.app.repository.get(aid)
    employee = request(current.employee_id, Role.EMPLOYEE)
    heads = sorted(ch.id for ch in current.changes.values() if ch.in_effect) or ["none"]
    options: list[tuple[Any, c.Command]] = [
        (m, c.ApproveAgreement(agreement_id=aid, guardrails=guardrails(rng.choice([4, 6, 8])))),
        (m, c.RequestChanges(agreement_id=aid, reason="More detail")),
        (
            employee,
            c.ReviseProposal(
                agreement_id=aid,
                title="Revised",
                career_goal=CareerGoal("PM", ("roadmaps",)),
                adjustments=[AdjustmentDraft("TASK", "Demo", 1)],
            ),
        ),  # type: ignore[arg-type]
        (
            m,
            c.AddAdjustment(
                agreement_id=aid,
                adjustment=AdjustmentDraft(
                    rng.choice(KINDS), "Shadow a PM", rng.choice([0, 0.5, 1])
                ),
            ),
        ),  # type: ignore[arg-type]
        (
            m,
            c.ReallocateTask(
                agreement_id=aid,
                task=rng.choice(["Triage", "Smoke tests"]),
                hours_per_week=rng.choice([0.5, 1]),
                to_person_id=rng.choice([org.mate_id, org.mate2_id]),
                reason="Free time",
            ),
        ),
        (m, c.RevertChange(agreement_id=aid, change_id=rng.choice(heads), reason="Undo")),
        (
            m,
            c.RevertToVersion(agreement_id=aid, version=max(1, current.version - 2), reason="Back"),
        ),
        (m, c.SetGuardrails(agreement_id=aid, guardrails=guardrails(rng.choice([5, 7, 9])))),
        (m, c.RecordReview(agreement_id=aid, outcome=rng.choice(["ON_TRACK", "AT_RISK"]))),
        (
            employee,
            c.RecordArtifact(
                agreement_id=aid,
                title="Brief",
                kind="BRIEF",
                skills=rng.sample(["writing", "research", "sql"], 2),
            ),
        ),
        (m, c.PauseAgreement(agreement_id=aid, reason="Crunch")),
        (m, c.ResumeAgreement(agreement_id=aid)),
        (m, c.CompleteAgreement(agreement_id=aid)),
        (employee, c.WithdrawAgreement(agreement_id=aid, reason="Moving on")),
        (
            org.hr,
            c.UpsertPeople(
                people=[
                    c.DirectoryEntry(
                        org.mate_id,
                        Profile(
                            "Mate",
                            f"mate{rng.randint(1, 3)}@example.com",
                            org.manager_id,
                            "t",
                            40,
                            True,
                        ),
                    )
                ]
            ),
        ),
    ]
    weights = [3, 1, 1, 4, 3, 3, 1, 1, 2, 2, 1, 1, 0.3, 0.2, 0.5]
    return rng.choices(options, weights)[0]


def snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every read table's rows, by table name without the generation prefix."""
    with engine.connect() as conn:
        rm = live_read_model(conn)
        tables = {}
        for table in rm.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            tables[table.name.split("_", 1)[1]] = [dict(r) for r in rows]
    return tables


@contextmanager
def executed_statements(engine: Engine, into: list[Any]) -> Iterator[None]:
    """Each statement object `engine` executes meanwhile, appended to `into`: a statement
    built once is the same object every time it runs."""

    def seen(_conn: Any, clause: Any, *_: Any) -> None:
        into.append(clause)

    event.listen(engine, "before_execute", seen)
    try:
        yield
    finally:
        event.remove(engine, "before_execute", seen)
