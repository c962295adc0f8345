"""Given events, when a lifecycle command runs, then these events (or this error)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.application import commands as c
from domain.values import AgreementStatus, CareerGoal, Role
from tests.support import Org, draft, event_types, guardrails, positions
from tests.support_rules import refused

S = AgreementStatus


def test_employee_proposes_an_agreement_with_metadata_on_the_event(org: Org) -> None:
    agreement = org.propose(idempotency_key="first-proposal")
    assert agreement.status is S.PROPOSED
    assert agreement.employee_id == org.employee_id
    (event,) = org.app.history(agreement.id)
    assert type(event).__name__ == "Proposed"
    assert event.actor_id == org.employee_id
    assert event.actor_role == "EMPLOYEE"
    assert event.correlation_id == org.employee.correlation_id
    assert event.idempotency_key == "first-proposal"
    assert event.reason is None
    assert event.timestamp.tzinfo is not None
    assert event.originator_version == 1


def test_hr_proposes_on_behalf_of_an_employee(org: Org) -> None:
    result = org.app.execute(
        org.hr,
        c.ProposeAgreement(
            employee_id=org.employee_id,
            title="Plan",
            career_goal=CareerGoal("PM", ()),
        ),
    )
    assert result.agreement is not None
    assert result.agreement.employee_id == org.employee_id
    assert org.app.history(result.agreement.id)[0].actor_role == "HR"


def test_proposing_for_an_unknown_employee_is_refused(org: Org) -> None:
    refused(
        org.app,
        org.hr,
        c.ProposeAgreement(employee_id="nobody", title="Plan", career_goal=CareerGoal("PM", ())),
        "UNKNOWN_PERSON",
    )


def test_manager_requests_changes_and_the_employee_revises(org: Org) -> None:
    agreement = org.propose()
    org.run(org.manager, c.RequestChanges(agreement_id=agreement.id, reason="Smaller steps"))
    revised = org.run(
        org.employee,
        c.ReviseProposal(
            agreement_id=agreement.id,
            title="Smaller plan",
            career_goal=CareerGoal("Product manager", ("research",)),
            adjustments=[draft(1, description="Sit in roadmap meetings")],
        ),
    )
    assert revised.status is S.PROPOSED
    assert revised.title == "Smaller plan"
    assert [a.description for a in revised.adjustments.values()] == ["Sit in roadmap meetings"]
    assert event_types(org.app, agreement.id) == ["Proposed", "ChangesRequested", "ProposalRevised"]
    assert org.app.history(agreement.id)[1].reason == "Smaller steps"


def test_manager_approves_with_guardrails_and_a_first_review_date(org: Org) -> None:
    agreement = org.active(rails=guardrails(6, every=14))
    assert agreement.status is S.ACTIVE
    assert agreement.manager_id == org.manager_id
    assert agreement.guardrails == guardrails(6, every=14)
    assert agreement.next_review_on == datetime.now(UTC).date() + timedelta(days=14)
    assert org.app.history(agreement.id)[-1].actor_role == "MANAGER"


def test_approval_needs_a_proposal_not_a_request_for_changes(org: Org) -> None:
    agreement = org.propose()
    org.run(org.manager, c.RequestChanges(agreement_id=agreement.id, reason="Rework"))
    refused(
        org.app,
        org.manager,
        c.ApproveAgreement(agreement_id=agreement.id, guardrails=guardrails()),
        "INVALID_TRANSITION",
    )


def test_manager_rejects_a_proposal(org: Org) -> None:
    agreement = org.propose()
    rejected = org.run(org.manager, c.RejectAgreement(agreement_id=agreement.id, reason="No"))
    assert rejected.status is S.REJECTED


def test_pause_resume_and_complete(org: Org) -> None:
    agreement = org.active()
    aid = agreement.id
    assert (
        org.run(org.manager, c.PauseAgreement(agreement_id=aid, reason="Crunch")).status is S.PAUSED
    )
    assert org.run(org.manager, c.ResumeAgreement(agreement_id=aid)).status is S.ACTIVE
    assert org.run(org.manager, c.CompleteAgreement(agreement_id=aid)).status is S.COMPLETED
    assert event_types(org.app, aid)[-3:] == ["Paused", "Resumed", "Completed"]


@pytest.mark.parametrize("stage", ["proposed", "changes_requested", "active", "paused"])
def test_employee_withdraws_from_any_non_final_state(org: Org, stage: str) -> None:
    agreement = org.propose() if stage in ("proposed", "changes_requested") else org.active()
    if stage == "changes_requested":
        org.run(org.manager, c.RequestChanges(agreement_id=agreement.id, reason="More"))
    if stage == "paused":
        org.run(org.manager, c.PauseAgreement(agreement_id=agreement.id, reason="Busy"))
    withdrawn = org.run(
        org.employee, c.WithdrawAgreement(agreement_id=agreement.id, reason="Changed my mind")
    )
    assert withdrawn.status is S.WITHDRAWN


def _final(org: Org, status: AgreementStatus) -> c.AgreementCommand:
    if status is S.REJECTED:
        agreement = org.propose()
        org.run(org.manager, c.RejectAgreement(agreement_id=agreement.id, reason="No"))
    elif status is S.WITHDRAWN:
        agreement = org.propose()
        org.run(org.employee, c.WithdrawAgreement(agreement_id=agreement.id, reason="No"))
    else:
        agreement = org.active()
        org.run(org.manager, c.CompleteAgreement(agreement_id=agreement.id))
    return c.PauseAgreement(agreement_id=agreement.id, reason="x")


@pytest.mark.parametrize("status", [S.COMPLETED, S.REJECTED, S.WITHDRAWN])
def test_final_agreements_accept_nothing_but_reads(org: Org, status: AgreementStatus) -> None:
    probe = _final(org, status)
    aid = probe.agreement_id
    for req, command in [
        (org.manager, c.PauseAgreement(agreement_id=aid, reason="x")),
        (org.manager, c.ResumeAgreement(agreement_id=aid)),
        (org.manager, c.CompleteAgreement(agreement_id=aid)),
        (org.employee, c.WithdrawAgreement(agreement_id=aid, reason="x")),
        (org.manager, c.AddAdjustment(agreement_id=aid, adjustment=draft())),
        (org.manager, c.SetGuardrails(agreement_id=aid, guardrails=guardrails(9))),
        (org.manager, c.RecordReview(agreement_id=aid, outcome="ON_TRACK")),
        (org.employee, c.RecordArtifact(agreement_id=aid, title="Brief", kind="BRIEF")),
        (
            org.employee,
            c.ReviseProposal(agreement_id=aid, title="t", career_goal=CareerGoal("PM", ())),
        ),
        (org.manager, c.ApproveAgreement(agreement_id=aid, guardrails=guardrails())),
        (org.manager, c.RejectAgreement(agreement_id=aid, reason="x")),
    ]:
        refused(org.app, req, command, "INVALID_TRANSITION")


def test_hr_acts_as_manager_on_anyone(org: Org) -> None:
    agreement = org.propose()
    approved = org.run(
        org.hr, c.ApproveAgreement(agreement_id=agreement.id, guardrails=guardrails())
    )
    assert approved.status is S.ACTIVE
    assert approved.manager_id == org.manager_id  # the directory's manager at approval
    assert org.app.history(agreement.id)[-1].actor_role == Role.HR


def test_reviews_set_the_next_review_date(org: Org) -> None:
    agreement = org.active(rails=guardrails(every=10))
    held = datetime.now(UTC).date()
    reviewed = org.run(
        org.manager,
        c.RecordReview(
            agreement_id=agreement.id, outcome="NEEDS_ADJUSTMENT", held_on=held, notes="Fine"
        ),
    )
    assert reviewed.next_review_on == held + timedelta(days=10)
    assert reviewed.reviews[-1].outcome == "NEEDS_ADJUSTMENT"
    refused(
        org.app,
        org.manager,
        c.RecordReview(
            agreement_id=agreement.id, outcome="ON_TRACK", held_on=held, next_review_on=held
        ),
        "INVALID_INPUT",
    )
    refused(
        org.app,
        org.manager,
        c.RecordReview(agreement_id=agreement.id, outcome="GREAT"),
        "INVALID_INPUT",
    )


def test_employee_and_manager_record_artifacts(org: Org) -> None:
    agreement = org.active()
    org.run(
        org.employee,
        c.RecordArtifact(
            agreement_id=agreement.id,
            title="Feature brief",
            kind="BRIEF",
            url="https://wiki.example.com/brief",
            skills=["writing", "Writing", "research"],
        ),
    )
    after = org.run(
        org.manager, c.RecordArtifact(agreement_id=agreement.id, title="Sprint demo", kind="DEMO")
    )
    first, second = after.artifacts
    assert first.skills == ("writing", "research")
    assert (first.recorded_by, second.recorded_by) == (org.employee_id, org.manager_id)
    refused(
        org.app,
        org.employee,
        c.RecordArtifact(
            agreement_id=agreement.id, title="x", kind="BRIEF", url="javascript:alert(1)"
        ),
        "INVALID_INPUT",
    )


def test_every_stored_event_reads_back_equal(org: Org) -> None:
    agreement = org.active()
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="Smoke tests",
            hours_per_week=1,
            to_person_id=org.mate_id,
            reason="Free time",
        ),
    )
    stored = org.app.repository.get(agreement.id)
    assert stored.reallocations == org.app.find_agreement(org.hr.actor, agreement.id).reallocations
    assert stored.guardrails == guardrails()
    assert positions(org.app) > 0
