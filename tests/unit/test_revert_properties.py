"""Property: for any sequence of changes and reverts, reverting to version v gives the
adjustments, reallocations, guardrails and sketch the agreement had at version v."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.agreement import Agreement
from domain.application import CraftingApplication
from domain.application import commands as c
from domain.errors import DomainError
from domain.sketch import Energy, Sketch, TaskBlock
from domain.values import ChangeStatus, Guardrails
from tests.support import Org, draft, guardrails

TASKS = ("Smoke tests", "Triage", "Release notes")
op = st.one_of(
    st.tuples(st.just("add"), st.sampled_from([0, 0.5, 1, 2, 3])),
    st.tuples(st.just("move"), st.sampled_from(TASKS), st.sampled_from([0.25, 1, 2])),
    st.tuples(
        st.just("rails"),
        st.sampled_from([4, 6, 8, 12]),
        st.sets(st.sampled_from(TASKS), max_size=2),
    ),
    st.tuples(st.just("sketch"), st.integers(min_value=0, max_value=3)),
    st.tuples(st.just("revert"), st.integers(min_value=0, max_value=50)),
)


def _effective(a: Agreement) -> tuple[Any, ...]:
    return (
        sorted(x.id for x in a.adjustments.values() if x.status is ChangeStatus.ACTIVE),
        sorted(x.id for x in a.reallocations.values() if x.status is ChangeStatus.ACTIVE),
        a.guardrails,
        a.sketch,
    )


def _apply(org: Org, aid: Any, step: tuple[Any, ...]) -> None:
    current = org.app.repository.get(aid)
    kind = step[0]
    if kind == "add":
        command: c.Command = c.AddAdjustment(agreement_id=aid, adjustment=draft(step[1]))
    elif kind == "move":
        command = c.ReallocateTask(
            agreement_id=aid,
            task=step[1],
            hours_per_week=step[2],
            to_person_id=org.mate_id,
            reason="free time",
        )
    elif kind == "rails":
        command = c.SetGuardrails(
            agreement_id=aid, guardrails=Guardrails(step[1], tuple(sorted(step[2])), 14)
        )
    elif kind == "sketch":  # the employee's, so run here
        sketch = Sketch(
            before=(TaskBlock("t", "Testing", 100, Energy.NEUTRAL),), purpose=f"{step[1]}"
        )
        with contextlib.suppress(DomainError):
            org.app.execute(org.employee, c.SetSketch(agreement_id=aid, sketch=sketch))
        return
    else:
        heads = sorted(ch.id for ch in current.changes.values() if ch.in_effect)
        command = c.RevertChange(
            agreement_id=aid, change_id=heads[step[1] % len(heads)], reason="property"
        )
    # A refused step records nothing; the sequence goes on.
    with contextlib.suppress(DomainError):
        org.app.execute(org.manager, command)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(op, min_size=1, max_size=14), pick=st.integers(min_value=0))
def test_revert_to_version_restores_the_effective_state_of_that_version(
    steps: list[tuple[Any, ...]], pick: int
) -> None:
    app = CraftingApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, max_hours_received_per_week=40
    )
    org = Org(app)
    agreement = org.active(draft(1), rails=guardrails(6, protected=()))
    for step in steps:
        _apply(org, agreement.id, step)
    now: Agreement = app.repository.get(agreement.id)
    assert agreement.approved_version is not None
    span = now.version - agreement.approved_version + 1
    version = agreement.approved_version + pick % span
    target = _effective(app.agreement_at(org.hr.actor, agreement.id, version=version))
    try:
        back = org.run(
            org.manager,
            c.RevertToVersion(agreement_id=agreement.id, version=version, reason="property"),
        )
    except DomainError as error:
        assert error.code == "INVALID_INPUT"  # nothing changed since that version
        assert _effective(now) == target
        return
    assert _effective(back) == target
    # and the reverts are themselves reversible: every new revert is in effect
    assert all(
        back.changes[cid].in_effect
        for cid in back.changes
        if back.changes[cid].version > now.version
    )
    app.close()
