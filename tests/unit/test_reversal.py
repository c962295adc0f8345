"""Reversibility: revertChange, revert of a revert, and revertToVersion."""

from __future__ import annotations

from domain.agreement import Agreement
from domain.application import commands as c
from domain.ledger import HoursLedger
from domain.values import CareerGoal, ChangeStatus, Role
from tests.support import Org, draft, event_types, guardrails, request
from tests.support_rules import refused

ACTIVE, REVERTED = ChangeStatus.ACTIVE, ChangeStatus.REVERTED


def _last_adjustment(agreement: Agreement) -> str:
    return list(agreement.adjustments.values())[-1].change_id


def test_reverting_an_adjustment_and_reverting_the_revert(org: Org) -> None:
    agreement = org.active()
    added = org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(1)))
    adjustment = list(added.adjustments.values())[-1]
    reverted = org.run(
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id=adjustment.change_id, reason="Not now"),
    )
    assert reverted.adjustments[adjustment.id].status is REVERTED
    revert = reverted.changes[adjustment.change_id].reverted_by
    assert revert is not None
    event = org.app.history(agreement.id)[-1]
    assert type(event).__name__ == "ChangeReverted"
    assert event.reverted_change_id == adjustment.change_id
    assert event.reason == "Not now"
    again = org.run(
        org.manager, c.RevertChange(agreement_id=agreement.id, change_id=revert, reason="After all")
    )
    assert again.adjustments[adjustment.id].status is ACTIVE
    assert event_types(org.app, agreement.id).count("ChangeReverted") == 2


def test_a_reverted_change_cannot_be_reverted_twice(org: Org) -> None:
    agreement = org.active()
    change = _last_adjustment(agreement)
    org.run(org.manager, c.RevertChange(agreement_id=agreement.id, change_id=change, reason="x"))
    refused(
        org.app,
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id=change, reason="x"),
        "CHANGE_NOT_REVERTIBLE",
    )
    refused(
        org.app,
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id="nope", reason="x"),
        "NOT_FOUND",
    )


def test_reverting_a_reallocation_gives_the_task_back(org: Org) -> None:
    agreement = org.active()
    moved = org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="Smoke tests",
            hours_per_week=2,
            to_person_id=org.mate_id,
            reason="Time for research",
        ),
    )
    item = next(iter(moved.reallocations.values()))
    back = org.run(
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id=item.change_id, reason="Mate is busy"),
    )
    assert back.reallocations[item.id].status is REVERTED
    receiver: HoursLedger = org.app.repository.get(HoursLedger.id_for(org.mate_id))
    giver: HoursLedger = org.app.repository.get(HoursLedger.id_for(org.employee_id))
    assert receiver.net_received == 0 and giver.net_received == 0


def test_reverting_a_guardrail_change_restores_the_previous_values(org: Org) -> None:
    agreement = org.active(rails=guardrails(6))
    org.run(org.manager, c.SetGuardrails(agreement_id=agreement.id, guardrails=guardrails(8)))
    changed = org.run(
        org.manager, c.SetGuardrails(agreement_id=agreement.id, guardrails=guardrails(10, every=7))
    )
    newest, older = sorted(
        (ch for ch in changed.changes.values() if ch.kind == "GUARDRAILS_CHANGED"),
        key=lambda ch: -ch.version,
    )[:2]
    refused(
        org.app,
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id=older.id, reason="x"),
        "CHANGE_NOT_REVERTIBLE",
    )
    back = org.run(
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id=newest.id, reason="Too generous"),
    )
    assert back.guardrails == guardrails(8)


def test_reverting_guardrails_is_refused_when_active_hours_no_longer_fit(org: Org) -> None:
    agreement = org.active(draft(4), rails=guardrails(6))
    raised = org.run(
        org.manager, c.SetGuardrails(agreement_id=agreement.id, guardrails=guardrails(10))
    )
    org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(5)))
    change = [ch for ch in raised.changes.values() if ch.kind == "GUARDRAILS_CHANGED"][-1]
    refused(
        org.app,
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id=change.id, reason="x"),
        "GUARDRAIL_EXCEEDED",
    )


def test_re_applying_an_adjustment_respects_the_guardrail(org: Org) -> None:
    agreement = org.active(draft(4), rails=guardrails(6))
    change = _last_adjustment(agreement)
    reverted = org.run(
        org.manager, c.RevertChange(agreement_id=agreement.id, change_id=change, reason="x")
    )
    org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(3)))
    revert = reverted.changes[change].reverted_by
    assert revert is not None
    refused(
        org.app,
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id=revert, reason="x"),
        "GUARDRAIL_EXCEEDED",
    )


def test_revert_to_version_undoes_everything_after_it_atomically(org: Org) -> None:
    agreement = org.active(rails=guardrails(6))
    v = agreement.version
    org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(1)))
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="Triage",
            hours_per_week=1,
            to_person_id=org.mate_id,
            reason="x",
        ),
    )
    org.run(org.manager, c.SetGuardrails(agreement_id=agreement.id, guardrails=guardrails(9)))
    org.run(org.manager, c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK"))
    back = org.run(
        org.manager, c.RevertToVersion(agreement_id=agreement.id, version=v, reason="Start over")
    )
    then = org.app.agreement_at(org.hr.actor, agreement.id, version=v)
    assert back.guardrails == then.guardrails
    assert _effective(back) == _effective(then)
    assert len(back.reviews) == 1  # reviews are records, not changes
    events = org.app.history(agreement.id)[-3:]
    assert {type(e).__name__ for e in events} == {"ChangeReverted"}
    assert {e.to_version for e in events} == {v}
    assert len({e.correlation_id for e in events}) == 1


def test_revert_to_version_is_refused_whole_when_a_receiver_is_now_full(org: Org) -> None:
    agreement = org.active()
    moved = org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="Triage",
            hours_per_week=3,
            to_person_id=org.mate_id,
            reason="x",
        ),
    )
    v = moved.version
    change = next(iter(moved.reallocations.values())).change_id
    org.run(org.manager, c.RevertChange(agreement_id=agreement.id, change_id=change, reason="x"))
    other = org.app.execute(
        request(org.mate2_id, Role.EMPLOYEE),
        c.ProposeAgreement(title="Growth", career_goal=CareerGoal("Lead", ())),
    )
    assert other.agreement is not None
    org.run(
        org.manager, c.ApproveAgreement(agreement_id=other.agreement.id, guardrails=guardrails())
    )
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=other.agreement.id,
            task="Docs",
            hours_per_week=2,
            to_person_id=org.mate_id,
            reason="x",
        ),
    )
    refused(
        org.app,
        org.manager,
        c.RevertToVersion(agreement_id=agreement.id, version=v, reason="x"),
        "RECEIVER_OVERLOADED",
    )


def test_revert_to_version_limits(org: Org) -> None:
    agreement = org.active()
    refused(
        org.app,
        org.manager,
        c.RevertToVersion(agreement_id=agreement.id, version=1, reason="x"),
        "INVALID_INPUT",
    )
    refused(
        org.app,
        org.manager,
        c.RevertToVersion(agreement_id=agreement.id, version=agreement.version, reason="x"),
        "INVALID_INPUT",
    )
    refused(
        org.app,
        org.manager,
        c.RevertToVersion(agreement_id=agreement.id, version=99, reason="x"),
        "INVALID_INPUT",
    )


def test_reverting_the_approval_guardrails_leaves_none(org: Org) -> None:
    agreement = org.active()
    change = next(ch for ch in agreement.changes.values() if ch.kind == "GUARDRAILS_CHANGED")
    back = org.run(
        org.manager,
        c.RevertChange(agreement_id=agreement.id, change_id=change.id, reason="Renegotiate"),
    )
    assert back.guardrails is None


def _effective(agreement: Agreement) -> tuple[set[str], set[str]]:
    return (
        {a.id for a in agreement.adjustments.values() if a.status is ACTIVE},
        {r.id for r in agreement.reallocations.values() if r.status is ACTIVE},
    )


def test_reverting_the_revert_of_a_guardrail_change_reapplies_it(org: Org) -> None:
    agreement = org.active()
    raised = org.run(
        org.manager, c.SetGuardrails(agreement_id=agreement.id, guardrails=guardrails(8))
    )
    change = [ch for ch in raised.changes.values() if ch.kind == "GUARDRAILS_CHANGED"][-1]
    back = org.run(
        org.manager, c.RevertChange(agreement_id=agreement.id, change_id=change.id, reason="x")
    )
    assert back.guardrails == agreement.guardrails
    revert = back.changes[change.id].reverted_by
    assert revert is not None
    again = org.run(
        org.manager, c.RevertChange(agreement_id=agreement.id, change_id=revert, reason="y")
    )
    assert again.guardrails == guardrails(8)
