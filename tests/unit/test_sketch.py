"""The crafting sketch on the agreement: its rules (property tests), who may draw it and
when, and its changes through revert and time travel."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domain.agreement import Agreement
from domain.application import CraftingApplication
from domain.application import commands as c
from domain.errors import DomainError, InvalidInput
from domain.packing import pack, unpack
from domain.records import Change, ChangeKind
from domain.sketch import (
    CraftedBlock,
    Energy,
    Relationship,
    RelationshipKind,
    Sketch,
    TaskBlock,
    check_sketch,
)
from tests.support import Org, draft
from tests.support_rules import forbidden, refused

N, D, E = Energy.NEUTRAL, Energy.DRAINING, Energy.ENERGISING
BEFORE = (TaskBlock("test", "Testing", 80, D), TaskBlock("meet", "Meetings", 20, N))


def _after(agreement: Agreement, research: float = 5) -> tuple[CraftedBlock, ...]:
    """Testing shrinks by `research` percent, which goes to customer research (the
    agreement's first adjustment)."""
    adjustment = next(iter(agreement.adjustments.values()))
    return (
        CraftedBlock("test2", "Testing", 80 - research, N, "test"),
        CraftedBlock("meet2", "Meetings", 20, N, "meet"),
        CraftedBlock(
            "research", "Customer research", research, E, None, adjustment.id, None, "roadmapping"
        ),
    )


def _sketch(agreement: Agreement, **kw: Any) -> Sketch:
    fields: dict[str, Any] = {
        "before": BEFORE,
        "after": _after(agreement),
        "relationships": (Relationship("r1", RelationshipKind.MENTOR, name="A product lead"),),
        "purpose": "Build what customers need",
        **kw,
    }
    return Sketch(**fields)


def _set(org: Org, agreement: Agreement, sketch: Sketch, **kw: Any) -> Agreement:
    return org.run(org.employee, c.SetSketch(agreement_id=agreement.id, sketch=sketch, **kw))


# 2 development hours of 40 contracted: 5% of the week (tests.support's organisation).


def test_the_employee_draws_a_sketch_and_it_is_a_reversible_change(org: Org) -> None:
    agreement = org.active()
    drawn = _set(org, agreement, _sketch(agreement))
    assert drawn.sketch is not None
    assert drawn.sketch.purpose == "Build what customers need"
    assert [b.move(drawn.sketch.before_by_id()) for b in drawn.sketch.after] == [
        "RESIZED",
        "KEPT",
        "ADDED",
    ]
    assert drawn.sketch.development_share() == 5
    change = [ch for ch in drawn.changes.values() if ch.kind is ChangeKind.SKETCH_CHANGED][-1]
    event = org.app.history(agreement.id)[-1]
    assert type(event).__name__ == "SketchChanged"
    assert event.change_id == change.id


def test_a_sketch_can_be_drawn_with_the_proposal_but_not_once_final(org: Org) -> None:
    proposed = org.propose(draft())
    drawn = _set(org, proposed, Sketch(before=BEFORE))
    assert drawn.sketch == Sketch(before=BEFORE)
    org.run(org.employee, c.WithdrawAgreement(agreement_id=proposed.id, reason="later"))
    refused(
        org.app,
        org.employee,
        c.SetSketch(agreement_id=proposed.id, sketch=Sketch(before=BEFORE[:1])),
        "INVALID_TRANSITION",
    )


def test_only_the_employee_or_hr_draws_the_sketch(org: Org) -> None:
    agreement = org.active()
    command = c.SetSketch(agreement_id=agreement.id, sketch=Sketch(before=BEFORE))
    forbidden(org.app, org.manager, command)
    forbidden(org.app, org.stranger, command)
    assert org.run(org.hr, command).sketch == Sketch(before=BEFORE)


def test_revert_restores_the_previous_sketch_and_a_revert_of_the_revert_reapplies(
    org: Org,
) -> None:
    agreement = org.active()
    first = _set(org, agreement, Sketch(before=BEFORE))
    second = _set(org, first, _sketch(first))
    newest = [ch for ch in second.changes.values() if ch.kind is ChangeKind.SKETCH_CHANGED]
    older, newer = sorted(newest, key=lambda ch: ch.version)
    # Only the newest sketch change may be undone while it is in effect.
    refused(
        org.app,
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id=older.id, reason="no"),
        "CHANGE_NOT_REVERTIBLE",
    )
    back = org.run(
        org.manager, c.RevertChange(agreement_id=agreement.id, change_id=newer.id, reason="no")
    )
    assert back.sketch == Sketch(before=BEFORE)
    revert = back.changes[newer.id].reverted_by
    assert revert is not None
    again = org.run(
        org.manager, c.RevertChange(agreement_id=agreement.id, change_id=revert, reason="yes")
    )
    assert again.sketch == second.sketch
    to_start = org.run(
        org.manager,
        c.RevertToVersion(agreement_id=agreement.id, version=agreement.version, reason="over"),
    )
    assert to_start.sketch is None


def test_time_travel_shows_the_sketch_of_each_version(org: Org) -> None:
    agreement = org.active()
    first = _set(org, agreement, Sketch(before=BEFORE))
    second = _set(org, first, _sketch(first))
    at = org.app.agreement_at
    assert at(org.hr.actor, agreement.id, version=agreement.version).sketch is None
    assert at(org.hr.actor, agreement.id, version=first.version).sketch == first.sketch
    assert at(org.hr.actor, agreement.id, version=second.version).sketch == second.sketch


def test_the_same_sketch_again_is_refused(org: Org) -> None:
    agreement = org.active()
    _set(org, agreement, Sketch(before=BEFORE))
    refused(
        org.app,
        org.employee,
        c.SetSketch(agreement_id=agreement.id, sketch=Sketch(before=BEFORE)),
        "INVALID_INPUT",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"after": (CraftedBlock("x", "New", 100, N, "nope"),)}, "after[0]"),
        ({"after": (CraftedBlock("x", "New", 100, N, None, "no-such"),)}, "after[0].adjustmentId"),
        (
            {"after": (CraftedBlock("x", "New", 100, N, None, None, None, "juggling"),)},
            "after[0].skill",
        ),
        ({"before": (TaskBlock("a", "A", 100, N), TaskBlock("a", "B", 0, N))}, "id"),
        ({"before": (TaskBlock("a", "A", 99.7, N),)}, "before[0].share"),
        ({"relationships": (Relationship("r", RelationshipKind.MENTOR),)}, "relationships[0].name"),
        (
            {"relationships": (Relationship("r", RelationshipKind.MENTOR, "nobody-here"),)},
            "relationships[0].personId",
        ),
    ],
)
def test_a_sketch_that_breaks_a_rule_is_refused_naming_the_field(
    org: Org, change: dict[str, Any], field: str
) -> None:
    agreement = org.active()
    sketch = Sketch(**{"before": BEFORE, "after": (), **change})
    error = refused(
        org.app,
        org.employee,
        c.SetSketch(agreement_id=agreement.id, sketch=sketch),
        "UNKNOWN_PERSON" if field.endswith("personId") else "INVALID_INPUT",
    )
    assert error.field == field


def test_a_relationship_with_a_person_of_the_directory(org: Org) -> None:
    agreement = org.active()
    mentor = Relationship("m", RelationshipKind.SHADOWING, person_id=org.mate_id, note="Fridays")
    drawn = _set(org, agreement, Sketch(relationships=(mentor,)))
    assert drawn.sketch is not None
    assert drawn.sketch.relationships == (mentor,)


def test_a_change_with_a_sketch_packs_and_an_older_shorter_row_reads_back() -> None:
    sketch = Sketch(before=BEFORE, purpose="p")
    change = Change("c", ChangeKind.SKETCH_CHANGED, "c", "c", 3, sketch_after=sketch)
    assert unpack(pack([change], Change), Change) == [change]
    older = '[["c","GUARDRAILS_CHANGED","c","c",3,null,null,null,null]]'
    (read,) = unpack(older, Change)
    assert read.sketch_before is None and read.sketch_after is None


# --- the rules, as properties ------------------------------------------------------

shares = st.integers(min_value=0, max_value=200).map(lambda n: n / 2)  # 0..100 in halves


@settings(max_examples=200, deadline=None)
@given(st.lists(shares, min_size=1, max_size=8))
def test_after_shares_are_accepted_exactly_when_they_add_up_to_100(values: list[float]) -> None:
    after = tuple(CraftedBlock(f"b{i}", f"Block {i}", v, N) for i, v in enumerate(values))
    sketch = Sketch(after=after)
    judged = _judge(sketch, development_hours=0, contracted_hours=None)
    adds_up = abs(sum(values) - 100) <= 0.5
    new_and_empty = any(v == 0 for v in values)  # a new block needs some time
    assert judged == (adds_up and not new_and_empty)


@settings(max_examples=200, deadline=None)
@given(
    moved=shares.filter(lambda s: s <= 60),
    hours=st.integers(min_value=0, max_value=64).map(lambda q: q / 4),
    contracted=st.sampled_from([20, 32, 37.5, 40]),
    reason=st.booleans(),
)
def test_time_moved_into_development_matches_the_development_hours_or_says_why(
    moved: float, hours: float, contracted: float, reason: bool
) -> None:
    assume(hours <= contracted)
    before = (TaskBlock("t", "Testing", 100, D),)
    after: tuple[CraftedBlock, ...] = (CraftedBlock("t2", "Testing", 100 - moved, N, "t"),)
    if moved:
        after += (CraftedBlock("g", "Growth", moved, E, None, "adj"),)
    sketch = Sketch(before, after, development_reason="A pilot month" if reason else None)
    judged = _judge(sketch, development_hours=hours, contracted_hours=contracted)
    expected = hours / contracted * 100
    assert sketch.development_share() == moved
    assert judged == (reason or abs(moved - expected) <= 1.0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(shares, st.sampled_from(list(Energy))), min_size=1, max_size=6))
def test_any_sketch_the_rules_accept_is_recorded_and_read_back_as_drawn(
    blocks: list[tuple[float, Energy]],
) -> None:
    before = tuple(TaskBlock(f"b{i}", f"Task {i}", s, e) for i, (s, e) in enumerate(blocks))
    sketch = Sketch(before=before)
    accepted = _judge(sketch, development_hours=0, contracted_hours=40)
    app = CraftingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    org = Org(app)
    agreement = org.active()
    try:
        drawn = _set(org, agreement, sketch)
    except DomainError as error:
        assert not accepted and error.code == "INVALID_INPUT"
        assert app.repository.get(agreement.id).version == agreement.version
    else:
        assert accepted
        assert app.repository.get(agreement.id).sketch == drawn.sketch == sketch
    app.close()


def _judge(sketch: Sketch, *, development_hours: float, contracted_hours: float | None) -> bool:
    try:
        check_sketch(
            sketch,
            development_hours=development_hours,
            contracted_hours=contracted_hours,
            adjustment_ids=frozenset({"adj"}),
            reallocation_ids=frozenset(),
            skills=(),
        )
    except InvalidInput:
        return False
    return True


def test_an_oversized_sketch_is_refused_before_its_fields_are_read(org: Org) -> None:
    agreement = org.active()
    many = tuple(TaskBlock(f"b{i}", "x" * 500, 1, N) for i in range(31))  # names too long too
    error = refused(
        org.app,
        org.employee,
        c.SetSketch(agreement_id=agreement.id, sketch=Sketch(before=many)),
        "INVALID_INPUT",
    )
    assert error.field == "before" and "at most 30" in error.message


def test_revising_the_proposal_drops_the_sketch_s_links_to_the_replaced_adjustments(
    org: Org,
) -> None:
    proposed = org.propose(draft())
    drawn = _set(org, proposed, _sketch(proposed))
    assert drawn.sketch is not None and drawn.sketch.after[2].adjustment_id is not None
    org.run(org.manager, c.RequestChanges(agreement_id=proposed.id, reason="Smaller"))
    revised = org.run(
        org.employee,
        c.ReviseProposal(
            agreement_id=proposed.id,
            title="Smaller",
            career_goal=proposed.career_goal,
            adjustments=[draft()],
        ),
    )
    assert revised.sketch is not None
    assert [b.adjustment_id for b in revised.sketch.after] == [None, None, None]
    assert revised.sketch.after[2].skill == "roadmapping"  # the rest stays
    # Still 5% moved into development (the skill link), so the purpose can be saved.
    again = _set(org, revised, replace(revised.sketch, purpose="Narrower"))
    assert again.sketch is not None and again.sketch.purpose == "Narrower"
