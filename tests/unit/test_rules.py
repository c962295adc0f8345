"""Rules 1-7 of SPEC section 2: each violation is a clear error and records nothing."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.access import Actor
from domain.application import Request
from domain.application import commands as c
from domain.errors import NotFound
from domain.ledger import HoursLedger
from domain.person import Profile
from domain.values import CareerGoal, Role
from tests.support import Org, draft, guardrails, positions, request
from tests.support_rules import forbidden, refused

# --- rule 1: who may act ------------------------------------------------------


def _manager_commands(aid: object) -> list[c.AgreementCommand]:
    return [
        c.RequestChanges(agreement_id=aid, reason="x"),
        c.ApproveAgreement(agreement_id=aid, guardrails=guardrails()),
        c.RejectAgreement(agreement_id=aid, reason="x"),
    ]


def test_employee_cannot_do_manager_actions(org: Org) -> None:
    agreement = org.propose()
    for command in _manager_commands(agreement.id):
        forbidden(org.app, org.employee, command)


def test_manager_cannot_approve_own_agreement(org: Org) -> None:
    own = org.app.execute(
        org.manager, c.ProposeAgreement(title="My own plan", career_goal=CareerGoal("Director", ()))
    )
    assert own.agreement is not None
    forbidden(
        org.app,
        org.manager,
        c.ApproveAgreement(agreement_id=own.agreement.id, guardrails=guardrails()),
    )


def test_hr_cannot_approve_own_agreement(org: Org) -> None:
    hr_also_employee = Request(Actor(org.hr_id, frozenset({Role.HR, Role.EMPLOYEE})), "c")
    own = org.app.execute(
        hr_also_employee, c.ProposeAgreement(title="HR growth", career_goal=CareerGoal("HRBP", ()))
    )
    assert own.agreement is not None
    forbidden(
        org.app,
        hr_also_employee,
        c.ApproveAgreement(agreement_id=own.agreement.id, guardrails=guardrails()),
    )


def test_another_manager_cannot_act_on_someone_elses_report(org: Org) -> None:
    agreement = org.propose()
    for command in _manager_commands(agreement.id):
        forbidden(org.app, org.other_manager, command)


def test_manager_cannot_propose_revise_or_withdraw_for_a_report(org: Org) -> None:
    agreement = org.propose()
    forbidden(org.app, org.manager, c.WithdrawAgreement(agreement_id=agreement.id, reason="x"))
    forbidden(
        org.app,
        org.manager,
        c.ReviseProposal(agreement_id=agreement.id, title="x", career_goal=CareerGoal("x", ())),
    )
    forbidden(
        org.app,
        org.manager,
        c.ProposeAgreement(employee_id=org.employee_id, title="x", career_goal=CareerGoal("x", ())),
    )


def test_another_employee_cannot_touch_an_agreement(org: Org) -> None:
    agreement = org.active()
    forbidden(
        org.app, org.stranger, c.RecordArtifact(agreement_id=agreement.id, title="x", kind="BRIEF")
    )
    forbidden(org.app, org.stranger, c.WithdrawAgreement(agreement_id=agreement.id, reason="x"))


def test_auditors_and_integrations_cannot_write(org: Org) -> None:
    agreement = org.propose()
    integration = request("workday", Role.INTEGRATION)
    for req in (org.auditor, integration):
        for command in _manager_commands(agreement.id):
            forbidden(org.app, req, command)


def test_a_made_up_agreement_id_is_forbidden_without_saying_it_does_not_exist(org: Org) -> None:
    made_up = c.PauseAgreement(agreement_id=uuid4(), reason="x")
    forbidden(org.app, org.manager, made_up)
    with pytest.raises(NotFound):
        org.app.execute(org.hr, made_up)


def test_a_person_id_is_not_an_agreement_id(org: Org) -> None:
    from domain.person import Person

    with pytest.raises(NotFound):
        org.app.execute(
            org.hr, c.PauseAgreement(agreement_id=Person.id_for(org.employee_id), reason="x")
        )


def test_authority_follows_the_directory_as_it_is_now(org: Org) -> None:
    agreement = org.propose()
    org.app.execute(
        org.hr,
        c.UpsertPeople(
            people=[
                c.DirectoryEntry(
                    org.employee_id,
                    Profile(
                        "Emp", f"{org.employee_id}@example.com", org.other_manager_id, "t", 40, True
                    ),
                )
            ]
        ),
    )
    forbidden(
        org.app, org.manager, c.ApproveAgreement(agreement_id=agreement.id, guardrails=guardrails())
    )
    approved = org.run(
        org.other_manager, c.ApproveAgreement(agreement_id=agreement.id, guardrails=guardrails())
    )
    assert approved.manager_id == org.other_manager_id


def test_a_manager_token_without_the_manager_role_cannot_approve(org: Org) -> None:
    agreement = org.propose()
    forbidden(
        org.app,
        request(org.manager_id, Role.EMPLOYEE),
        c.ApproveAgreement(agreement_id=agreement.id, guardrails=guardrails()),
    )


# --- rule 2: development hours within the guardrail ---------------------------


def test_approval_is_refused_when_proposed_hours_exceed_the_guardrail(org: Org) -> None:
    agreement = org.propose(draft(4), draft(3))
    refused(
        org.app,
        org.manager,
        c.ApproveAgreement(agreement_id=agreement.id, guardrails=guardrails(6)),
        "GUARDRAIL_EXCEEDED",
    )


def test_adding_an_adjustment_past_the_guardrail_is_refused(org: Org) -> None:
    agreement = org.active(draft(4), rails=guardrails(6))
    at_limit = org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(2)))
    assert at_limit.development_hours() == 6
    refused(
        org.app,
        org.manager,
        c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(0.25)),
        "GUARDRAIL_EXCEEDED",
    )
    reframing = org.run(
        org.manager,
        c.AddAdjustment(
            agreement_id=agreement.id,
            adjustment=draft(
                0,
                kind="COGNITIVE",  # type: ignore[arg-type]
                description="Frame tests as research",
            ),
        ),
    )
    assert reframing.development_hours() == 6


def test_lowering_the_guardrail_below_active_hours_is_refused(org: Org) -> None:
    agreement = org.active(draft(4), rails=guardrails(6))
    refused(
        org.app,
        org.manager,
        c.SetGuardrails(agreement_id=agreement.id, guardrails=guardrails(3)),
        "GUARDRAIL_EXCEEDED",
    )


# --- rule 3: protected responsibilities ---------------------------------------


def test_a_protected_responsibility_cannot_be_reallocated(org: Org) -> None:
    agreement = org.active(rails=guardrails(protected=("Release sign-off",)))
    refused(
        org.app,
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="release SIGN-OFF",
            hours_per_week=1,
            to_person_id=org.mate_id,
            reason="x",
        ),
        "PROTECTED_RESPONSIBILITY",
    )


def test_protecting_a_task_that_is_currently_reallocated_is_refused(org: Org) -> None:
    agreement = org.active()
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="Smoke tests",
            hours_per_week=1,
            to_person_id=org.mate_id,
            reason="x",
        ),
    )
    refused(
        org.app,
        org.manager,
        c.SetGuardrails(
            agreement_id=agreement.id, guardrails=guardrails(protected=("smoke tests",))
        ),
        "PROTECTED_RESPONSIBILITY",
    )


# --- rule 4: team fairness ----------------------------------------------------


def _second_agreement(org: Org) -> object:
    result = org.app.execute(
        request(org.mate2_id, Role.EMPLOYEE),
        c.ProposeAgreement(
            title="Growth", career_goal=CareerGoal("Lead", ()), adjustments=[draft(1)]
        ),
    )
    assert result.agreement is not None
    return org.run(
        org.manager, c.ApproveAgreement(agreement_id=result.agreement.id, guardrails=guardrails())
    ).id


def test_receiver_limit_holds_across_agreements_and_reverts_give_hours_back(org: Org) -> None:
    first = org.active()
    second = _second_agreement(org)
    moved = org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=first.id,
            task="Smoke tests",
            hours_per_week=3,
            to_person_id=org.mate_id,
            reason="Free time for research",
        ),
    )
    refused(
        org.app,
        org.manager,
        c.ReallocateTask(
            agreement_id=second,
            task="Triage",
            hours_per_week=1.25,
            to_person_id=org.mate_id,
            reason="x",
        ),
        "RECEIVER_OVERLOADED",
    )
    change = next(iter(moved.reallocations.values())).change_id
    org.run(org.manager, c.RevertChange(agreement_id=first.id, change_id=change, reason="Undo"))
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=second,
            task="Triage",
            hours_per_week=4,
            to_person_id=org.mate_id,
            reason="x",
        ),
    )


def test_the_limit_counts_net_hours_received(org: Org) -> None:
    first = org.active()
    second = _second_agreement(org)  # mate2's agreement
    # mate gives 2 hours away to mate2 ...
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=second,
            task="Docs",
            hours_per_week=2,
            from_person_id=org.mate_id,
            to_person_id=org.mate2_id,
            reason="x",
        ),
    )
    # ... so mate can receive 6 and still be at a net 4.
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=first.id,
            task="Smoke tests",
            hours_per_week=6,
            to_person_id=org.mate_id,
            reason="x",
        ),
    )
    ledger: HoursLedger = org.app.repository.get(HoursLedger.id_for(org.mate_id))
    assert ledger.net_received == 4


def test_reallocating_to_an_unknown_or_the_same_person_is_refused(org: Org) -> None:
    agreement = org.active()
    ghost = c.ReallocateTask(
        agreement_id=agreement.id, task="x", hours_per_week=1, to_person_id="ghost", reason="x"
    )
    refused(org.app, org.hr, ghost, "UNKNOWN_PERSON")
    # A manager is refused as for another manager's report: no directory oracle.
    forbidden(org.app, org.manager, ghost)
    refused(
        org.app,
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="x",
            hours_per_week=1,
            to_person_id=org.employee_id,
            reason="x",
        ),
        "INVALID_INPUT",
    )
    refused(
        org.app,
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="x",
            hours_per_week=0,
            to_person_id=org.mate_id,
            reason="x",
        ),
        "INVALID_INPUT",
    )


# --- rule 5: optimistic concurrency ---------------------------------------------


def test_expected_version_must_match(org: Org) -> None:
    agreement = org.active()
    refused(
        org.app,
        org.manager,
        c.PauseAgreement(agreement_id=agreement.id, reason="x", expected_version=1),
        "VERSION_CONFLICT",
    )
    paused = org.run(
        org.manager,
        c.PauseAgreement(agreement_id=agreement.id, reason="x", expected_version=agreement.version),
    )
    assert paused.version == agreement.version + 1


# --- rule 6: idempotency keys ---------------------------------------------------


def test_repeating_a_command_with_its_key_returns_the_first_result(org: Org) -> None:
    agreement = org.active()
    command = c.AddAdjustment(
        agreement_id=agreement.id, adjustment=draft(1), idempotency_key="add-1"
    )
    first = org.app.execute(org.manager, command)
    before = positions(org.app)
    again = org.app.execute(request(org.manager_id, Role.MANAGER), command)
    assert positions(org.app) == before
    assert again.replayed and not first.replayed
    assert again.position == first.position
    assert again.agreement is not None and first.agreement is not None
    assert again.agreement.adjustments == first.agreement.adjustments
    assert again.agreement.version == first.agreement.version


def test_reusing_a_key_with_other_input_is_refused(org: Org) -> None:
    agreement = org.active()
    org.app.execute(
        org.manager,
        c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(1), idempotency_key="k"),
    )
    refused(
        org.app,
        org.manager,
        c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(2), idempotency_key="k"),
        "IDEMPOTENCY_KEY_REUSED",
    )


def test_keys_belong_to_one_actor(org: Org) -> None:
    agreement = org.active()
    org.app.execute(
        org.manager, c.PauseAgreement(agreement_id=agreement.id, reason="x", idempotency_key="k")
    )
    resumed = org.app.execute(
        org.hr, c.ResumeAgreement(agreement_id=agreement.id, idempotency_key="k")
    )
    assert not resumed.replayed


def test_a_refused_command_does_not_use_up_its_key(org: Org) -> None:
    agreement = org.active(draft(4), rails=guardrails(6))
    command = c.AddAdjustment(
        agreement_id=agreement.id, adjustment=draft(3), idempotency_key="retry-me"
    )
    refused(org.app, org.manager, command, "GUARDRAIL_EXCEEDED")
    org.run(org.manager, c.SetGuardrails(agreement_id=agreement.id, guardrails=guardrails(8)))
    assert not org.app.execute(org.manager, command).replayed


# --- rule 7: reasons ------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda a: c.RejectAgreement(agreement_id=a),
        lambda a: c.RequestChanges(agreement_id=a, reason="   "),
        lambda a: c.WithdrawAgreement(agreement_id=a),
    ],
)
def test_refusing_commands_need_a_reason(org: Org, make: object) -> None:
    agreement = org.propose()
    req = org.employee if "Withdraw" in repr(make(agreement.id)) else org.manager  # type: ignore[operator]
    refused(org.app, req, make(agreement.id), "REASON_REQUIRED")  # type: ignore[operator]


@pytest.mark.parametrize(
    "make",
    [
        lambda a, ch: c.PauseAgreement(agreement_id=a),
        lambda a, ch: c.RevertChange(agreement_id=a, change_id=ch),
        lambda a, ch: c.RevertToVersion(agreement_id=a, version=2),
    ],
)
def test_undoing_commands_need_a_reason(org: Org, make: object) -> None:
    agreement = org.active()
    added = org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(1)))
    change = added.adjustments[next(reversed(added.adjustments))].change_id
    refused(org.app, org.manager, make(agreement.id, change), "REASON_REQUIRED")  # type: ignore[operator]


def test_every_command_has_exactly_one_handler() -> None:
    from domain.application.handlers import HANDLERS

    def concrete(cls: type[c.Command]) -> set[type[c.Command]]:
        found = set()
        for sub in cls.__subclasses__():
            found |= concrete(sub) if sub.__subclasses__() else {sub}
        return found

    assert set(HANDLERS) == concrete(c.Command) - {c.AgreementCommand}
