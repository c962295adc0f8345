"""Given an ended agreement, when its outcome is recorded or reverted, then these events
(or this error): outcomes are changes like any other, in the history and undoable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.agreement.outcomes import OutcomeKind, current
from domain.application import commands as c
from tests.support import Org, event_types
from tests.support_rules import forbidden, refused


def _completed(org: Org):  # type: ignore[no-untyped-def]
    agreement = org.active()
    return org.run(org.manager, c.CompleteAgreement(agreement_id=agreement.id))


def test_manager_records_the_outcome_of_a_completed_agreement(org: Org) -> None:
    agreement = _completed(org)
    done = org.run(
        org.manager,
        c.RecordOutcome(
            agreement_id=agreement.id,
            kind="MOVED_TO_TARGET_ROLE",
            achieved_on=date(2026, 1, 5),
            expected_version=agreement.version,
        ),
    )
    now = current(done.outcomes)
    assert now is not None
    assert (now["kind"], now["on"]) == ("MOVED_TO_TARGET_ROLE", "2026-01-05")
    assert event_types(org.app, agreement.id)[-1] == "OutcomeRecorded"
    assert org.app.history(agreement.id)[-1].actor_role == "MANAGER"


def test_hr_records_an_outcome_later_on_a_withdrawn_agreement_with_a_reason(org: Org) -> None:
    agreement = org.active()
    org.run(org.employee, c.WithdrawAgreement(agreement_id=agreement.id, reason="Left the team"))
    done = org.run(
        org.hr,
        c.RecordOutcome(agreement_id=agreement.id, kind="STOPPED", reason="Moved abroad"),
    )
    now = current(done.outcomes)
    assert now is not None and now["kind"] == OutcomeKind.STOPPED
    assert org.app.history(agreement.id)[-1].reason == "Moved abroad"


def test_stopping_and_changing_the_goal_need_a_reason(org: Org) -> None:
    agreement = _completed(org)
    for kind in ("STOPPED", "GOAL_CHANGED"):
        refused(
            org.app,
            org.manager,
            c.RecordOutcome(agreement_id=agreement.id, kind=kind),
            "REASON_REQUIRED",
        )


def test_an_outcome_waits_for_the_agreement_to_end(org: Org) -> None:
    agreement = org.active()
    refused(
        org.app,
        org.manager,
        c.RecordOutcome(agreement_id=agreement.id, kind="PROMOTED_IN_PLACE"),
        "INVALID_TRANSITION",
    )


def test_unknown_kinds_and_future_dates_are_refused(org: Org) -> None:
    agreement = _completed(org)
    refused(
        org.app,
        org.manager,
        c.RecordOutcome(agreement_id=agreement.id, kind="FIRED"),
        "INVALID_INPUT",
    )
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    refused(
        org.app,
        org.manager,
        c.RecordOutcome(agreement_id=agreement.id, kind="PROMOTED_IN_PLACE", achieved_on=tomorrow),
        "INVALID_INPUT",
    )


def test_the_employee_and_other_managers_may_not_record_outcomes(org: Org) -> None:
    agreement = _completed(org)
    for who in (org.employee, org.other_manager, org.auditor):
        forbidden(
            org.app, who, c.RecordOutcome(agreement_id=agreement.id, kind="PROMOTED_IN_PLACE")
        )


def test_reverting_an_outcome_brings_back_the_one_before(org: Org) -> None:
    agreement = _completed(org)
    org.run(org.manager, c.RecordOutcome(agreement_id=agreement.id, kind="SKILLS_DEMONSTRATED"))
    org.run(org.hr, c.RecordOutcome(agreement_id=agreement.id, kind="MOVED_TO_TARGET_ROLE"))
    back = org.run(org.hr, c.RevertOutcome(agreement_id=agreement.id, reason="Recorded too early"))
    now = current(back.outcomes)
    assert now is not None and now["kind"] == "SKILLS_DEMONSTRATED"
    gone = org.run(org.hr, c.RevertOutcome(agreement_id=agreement.id, reason="Not known yet"))
    assert current(gone.outcomes) is None
    assert event_types(org.app, agreement.id)[-4:] == [
        "OutcomeRecorded",
        "OutcomeRecorded",
        "OutcomeReverted",
        "OutcomeReverted",
    ]
    refused(
        org.app,
        org.hr,
        c.RevertOutcome(agreement_id=agreement.id, reason="Again"),
        "CHANGE_NOT_REVERTIBLE",
    )
    refused(org.app, org.hr, c.RevertOutcome(agreement_id=agreement.id), "REASON_REQUIRED")


def test_the_same_outcome_twice_is_refused_and_replays_are_idempotent(org: Org) -> None:
    agreement = _completed(org)
    first = c.RecordOutcome(
        agreement_id=agreement.id, kind="PROMOTED_IN_PLACE", idempotency_key="outcome-1"
    )
    org.run(org.manager, first)
    again = org.app.execute(org.manager, first)
    assert again.replayed
    refused(
        org.app,
        org.manager,
        c.RecordOutcome(agreement_id=agreement.id, kind="PROMOTED_IN_PLACE"),
        "INVALID_INPUT",
    )


def test_a_stale_expected_version_records_nothing(org: Org) -> None:
    agreement = _completed(org)
    refused(
        org.app,
        org.manager,
        c.RecordOutcome(
            agreement_id=agreement.id,
            kind="PROMOTED_IN_PLACE",
            expected_version=agreement.version - 1,
        ),
        "VERSION_CONFLICT",
    )


def test_an_agreement_loaded_from_a_snapshot_keeps_its_outcome(org: Org) -> None:
    agreement = _completed(org)
    org.run(org.manager, c.RecordOutcome(agreement_id=agreement.id, kind="PROMOTED_IN_PLACE"))
    org.app.take_snapshot(agreement.id)
    loaded = org.app.repository.get(agreement.id)
    now = current(loaded.outcomes)
    assert now is not None and now["kind"] == "PROMOTED_IN_PLACE"
