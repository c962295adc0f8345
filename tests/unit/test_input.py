"""Bad input gets a clear error naming the field, and changes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from domain.application import commands as c
from domain.values import AdjustmentDraft, CareerGoal, Guardrails
from tests.support import Org, draft, guardrails
from tests.support_rules import refused


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        (-1, "adjustment.hoursPerWeek"),
        (float("nan"), "adjustment.hoursPerWeek"),
        (41, "adjustment.hoursPerWeek"),
        (1e308, "adjustment.hoursPerWeek"),
        (0.1, "adjustment.hoursPerWeek"),
    ],
)
def test_absurd_hours_are_refused(org: Org, hours: float, field: str) -> None:
    agreement = org.active()
    error = refused(
        org.app,
        org.manager,
        c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(hours)),
        "INVALID_INPUT",
    )
    assert error.field == field


@pytest.mark.parametrize(
    ("title", "goal", "field"),
    [
        ("   ", CareerGoal("PM", ()), "title"),
        ("x" * 201, CareerGoal("PM", ()), "title"),
        ("ok", CareerGoal("", ()), "careerGoal.targetRole"),
        ("ok", CareerGoal("PM", ("",)), "careerGoal.skills[0]"),
        ("ok", CareerGoal("PM", tuple(f"s{i}" for i in range(51))), "careerGoal.skills"),
        ("bad\x00title", CareerGoal("PM", ()), "title"),
        ("ok", CareerGoal("PM", (), date(1900, 1, 1)), "careerGoal.targetDate"),
    ],
)
def test_proposals_are_validated(org: Org, title: str, goal: CareerGoal, field: str) -> None:
    error = refused(
        org.app, org.employee, c.ProposeAgreement(title=title, career_goal=goal), "INVALID_INPUT"
    )
    assert error.field == field


def test_adjustment_dates_must_be_in_order(org: Org) -> None:
    bad = AdjustmentDraft("TASK", "x", 1, date(2027, 2, 1), date(2027, 1, 1))  # type: ignore[arg-type]
    error = refused(
        org.app,
        org.employee,
        c.ProposeAgreement(title="ok", career_goal=CareerGoal("PM", ()), adjustments=[bad]),
        "INVALID_INPUT",
    )
    assert error.field == "adjustments[0].endsOn"


def test_unknown_adjustment_kind_is_refused(org: Org) -> None:
    bad = AdjustmentDraft("SLEEPING", "x", 1)  # type: ignore[arg-type]
    error = refused(
        org.app,
        org.employee,
        c.ProposeAgreement(title="ok", career_goal=CareerGoal("PM", ()), adjustments=[bad]),
        "INVALID_INPUT",
    )
    assert error.field == "adjustments[0].kind"


@pytest.mark.parametrize(
    ("rails", "field"),
    [
        (Guardrails(6, (), 0), "guardrails.reviewEveryDays"),
        (Guardrails(6, (), 400), "guardrails.reviewEveryDays"),
        (Guardrails(-2, (), 14), "guardrails.maxDevelopmentHoursPerWeek"),
        (Guardrails(6, ("",), 14), "guardrails.protectedResponsibilities[0]"),
    ],
)
def test_guardrails_are_validated(org: Org, rails: Guardrails, field: str) -> None:
    agreement = org.propose()
    error = refused(
        org.app,
        org.manager,
        c.ApproveAgreement(agreement_id=agreement.id, guardrails=rails),
        "INVALID_INPUT",
    )
    assert error.field == field


def test_too_many_adjustments_in_one_proposal_are_refused(org: Org) -> None:
    refused(
        org.app,
        org.employee,
        c.ProposeAgreement(
            title="ok", career_goal=CareerGoal("PM", ()), adjustments=[draft(0)] * 51
        ),
        "INVALID_INPUT",
    )


def test_overlong_reasons_and_keys_are_refused(org: Org) -> None:
    agreement = org.active()
    refused(
        org.app,
        org.manager,
        c.PauseAgreement(agreement_id=agreement.id, reason="x" * 2001),
        "INVALID_INPUT",
    )
    refused(
        org.app,
        org.manager,
        c.PauseAgreement(agreement_id=agreement.id, reason="x", idempotency_key="k" * 201),
        "INVALID_INPUT",
    )


def test_guardrails_identical_to_the_current_ones_are_refused(org: Org) -> None:
    agreement = org.active(rails=guardrails(6))
    refused(
        org.app,
        org.manager,
        c.SetGuardrails(agreement_id=agreement.id, guardrails=guardrails(6)),
        "INVALID_INPUT",
    )
