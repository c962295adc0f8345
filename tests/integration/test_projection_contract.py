"""Property: for random workloads — proposals, revisions, approvals, adjustments,
reallocations, reverts, reverts of reverts, reverts to a version, pauses — projected
incrementally in batches cut anywhere, every read row equals the row contract
(`projections.rows.agreement_row`) built from the write model. Incremental = rebuild
(tests/integration/test_projections.py) runs the same projector on both sides; this
compares the projector with the aggregate."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.agreement import Agreement
from domain.application import commands as c
from domain.errors import DomainError, Forbidden
from domain.sealing import opened_in
from domain.values import AdjustmentDraft, CareerGoal, Guardrails
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from infra.signing import new_private_key
from projections.queries import live_read_model
from projections.rows import agreement_row
from tests.support import Org

TASKS = ("Smoke tests", "Triage", "Release notes")
HOURS = (0, 0.25, 0.5, 1, 2, 3)

op = st.one_of(
    st.tuples(st.just("propose"), st.sampled_from(HOURS)),
    st.tuples(st.just("approve"), st.integers(0, 9), st.sampled_from([4, 6, 12])),
    st.tuples(st.just("revise"), st.integers(0, 9), st.sampled_from(HOURS)),
    st.tuples(st.just("request_changes"), st.integers(0, 9)),
    st.tuples(st.just("add"), st.integers(0, 9), st.sampled_from(HOURS)),
    st.tuples(
        st.just("move"), st.integers(0, 9), st.sampled_from(TASKS), st.sampled_from([0.5, 1])
    ),
    st.tuples(st.just("rails"), st.integers(0, 9), st.sampled_from([3, 6, 12])),
    st.tuples(st.just("revert"), st.integers(0, 9), st.integers(0, 50)),
    st.tuples(st.just("revert_revert"), st.integers(0, 9), st.integers(0, 50)),
    st.tuples(st.just("revert_to"), st.integers(0, 9), st.integers(0, 50)),
    st.tuples(st.just("review"), st.integers(0, 9)),
    st.tuples(st.just("pause"), st.integers(0, 9)),
    st.tuples(st.just("resume"), st.integers(0, 9)),
    st.tuples(
        st.just("project"),
    ),  # an incremental batch, cut here
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """One service for every example (each example makes its own organisation)."""
    path = tmp_path_factory.mktemp("contract") / "crafting.db"
    built = bootstrap(
        Settings(
            database_url=f"sqlite:///{path}",
            jwt_secret=None,
            signing_key=new_private_key(),
            max_hours_received_per_week=40,
        )
    )
    built.prepare()  # migrations, then the read models built
    built.projector.batch_size = 3  # batches end anywhere, also inside one command's events
    yield built
    built.close()


def _command(org: Org, ids: list[UUID], step: tuple[Any, ...]) -> tuple[Any, c.Command] | None:
    kind = step[0]
    if kind == "propose":
        return org.employee, c.ProposeAgreement(
            title="Tester to product manager",
            career_goal=CareerGoal("Product manager", ("research",)),
            adjustments=[AdjustmentDraft("TASK", "Write a brief", step[1])],  # type: ignore[arg-type]
        )
    if not ids:
        return None
    aid = ids[step[1] % len(ids)]
    current: Agreement = org.app.repository.get(aid)
    m = org.manager
    if kind == "approve":
        return m, c.ApproveAgreement(agreement_id=aid, guardrails=Guardrails(step[2], (), 14))
    if kind == "revise":
        return org.employee, c.ReviseProposal(
            agreement_id=aid,
            title="Revised",
            career_goal=CareerGoal("PM", ("roadmaps",)),
            adjustments=[AdjustmentDraft("COGNITIVE", "Reframe", step[2])],  # type: ignore[arg-type]
        )
    if kind == "request_changes":
        return m, c.RequestChanges(agreement_id=aid, reason="More detail")
    if kind == "add":
        draft = AdjustmentDraft("RELATIONAL", "Shadow a PM", step[2])  # type: ignore[arg-type]
        return m, c.AddAdjustment(agreement_id=aid, adjustment=draft)
    if kind == "move":
        return m, c.ReallocateTask(
            agreement_id=aid,
            task=step[2],
            hours_per_week=step[3],
            to_person_id=org.mate_id,
            reason="Free time",
        )
    if kind == "rails":
        return m, c.SetGuardrails(agreement_id=aid, guardrails=Guardrails(step[2], (), 14))
    if kind in ("revert", "revert_revert"):
        heads = sorted(
            ch.id
            for ch in current.changes.values()
            if ch.in_effect and (kind == "revert") == (ch.reverts is None)
        )
        if not heads:
            return None
        change_id = heads[step[2] % len(heads)]
        return m, c.RevertChange(agreement_id=aid, change_id=change_id, reason="Undo")
    if kind == "revert_to":
        version = 1 + step[2] % current.version
        return m, c.RevertToVersion(agreement_id=aid, version=version, reason="Back")
    if kind == "review":
        return m, c.RecordReview(agreement_id=aid, outcome="ON_TRACK", notes="Fine")
    if kind == "pause":
        return m, c.PauseAgreement(agreement_id=aid, reason="Crunch")
    return m, c.ResumeAgreement(agreement_id=aid)


def _read_rows(service: Container, table: str, aid: UUID) -> list[dict[str, Any]]:
    with service.engines.reader.connect() as conn:
        rm = live_read_model(conn)
        t = getattr(rm, table)
        query = select(t).where(t.c.agreement_id == str(aid))
        rows = [dict(r) for r in conn.execute(query).mappings()]
    opened: list[dict[str, Any]] = opened_in(rows, service.keys)
    return opened


def _contract(rows: list[dict[str, Any]], key: str, keep: set[str]) -> dict[str, dict[str, Any]]:
    return {r[key]: {k: v for k, v in r.items() if k in keep} for r in rows}


def _assert_rows_match_the_write_model(service: Container, aid: UUID) -> None:
    agreement: Agreement = service.app.repository.get(aid)
    expected = agreement_row(agreement)
    (row,) = _read_rows(service, "agreements", aid)
    compared = set(expected) - {"_children", "position", "created_at", "updated_at"}
    assert {k: row[k] for k in compared} == {k: expected[k] for k in compared}
    for table, key, leave_out in (
        ("adjustments", "adjustment_id", set()),
        ("reallocations", "reallocation_id", set()),
        ("changes", "change_id", {"recorded_at"}),
        ("reviews", "review_id", set()),
    ):
        wanted = expected["_children"][table]()
        keep = set(wanted[0]) - leave_out if wanted else set()
        got = _read_rows(service, table, aid)
        assert len(got) == len(wanted), table
        assert _contract(got, key, keep) == _contract(wanted, key, keep), table


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(op, min_size=1, max_size=30))
def test_every_read_row_equals_the_row_contract_of_the_write_model(
    service: Container, steps: list[tuple[Any, ...]]
) -> None:
    org = Org(service.app)
    ids: list[UUID] = []
    for step in steps:
        if step[0] == "project":
            service.projector.run_once()
            continue
        found = _command(org, ids, step)
        if found is None:
            continue
        who, command = found
        with contextlib.suppress(DomainError, Forbidden):  # refused: nothing recorded
            result = service.app.execute(who, command)
            if isinstance(command, c.ProposeAgreement):
                assert result.agreement is not None
                ids.append(result.agreement.id)
    service.projector.catch_up()
    for aid in ids:
        _assert_rows_match_the_write_model(service, aid)
