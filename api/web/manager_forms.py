"""The manager's forms read into commands. Each field is named as the command's own
error names it (`guardrails.reviewEveryDays`, `toPersonId`, ...), so a rule
violation lands next to the field it is about; the commands judge every value."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from api.web.agreements import Build
from api.web.forms import Submitted
from domain.application import commands as c
from domain.values import AdjustmentDraft, AdjustmentKind, Guardrails

# The reason the preview of a revert to a version is judged with: the dry run records
# nothing, and the confirming form asks for the real reason.
PREVIEW_REASON = "Preview"


def guardrails(form: Submitted) -> Guardrails:
    """Guardrails as given on approval or when changing them."""
    return Guardrails(
        max_development_hours_per_week=form.number(
            "guardrails.maxDevelopmentHoursPerWeek", "Most development hours per week"
        ),
        protected_responsibilities=tuple(form.words("guardrails.protectedResponsibilities")),
        review_every_days=form.whole("guardrails.reviewEveryDays", "Review every (days)"),
        ends_on=form.day("guardrails.endsOn", "Ends on"),
    )


def approve(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    return c.ApproveAgreement(
        agreement_id=aid, expected_version=version, idempotency_key=key, guardrails=guardrails(form)
    )


def set_guardrails(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    return c.SetGuardrails(
        agreement_id=aid, expected_version=version, idempotency_key=key, guardrails=guardrails(form)
    )


def add_adjustment(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    draft = AdjustmentDraft(
        # As given: `validated` names the allowed kinds when it is not one of them.
        kind=cast(AdjustmentKind, form.get("adjustment.kind")),
        description=form.get("adjustment.description"),
        hours_per_week=form.number("adjustment.hoursPerWeek", "Hours per week"),
        starts_on=form.day("adjustment.startsOn", "Starts on"),
        ends_on=form.day("adjustment.endsOn", "Ends on"),
    )
    return c.AddAdjustment(
        agreement_id=aid, expected_version=version, idempotency_key=key, adjustment=draft
    )


def reallocate(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    return c.ReallocateTask(
        agreement_id=aid,
        expected_version=version,
        idempotency_key=key,
        reason=form.text("reason"),
        task=form.get("task"),
        hours_per_week=form.number("hoursPerWeek", "Hours per week"),
        to_person_id=form.get("toPersonId"),
        effective_on=form.day("effectiveOn", "Effective on"),
    )


def record_review(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    return c.RecordReview(
        agreement_id=aid,
        expected_version=version,
        idempotency_key=key,
        outcome=form.get("outcome"),
        held_on=form.day("heldOn", "Held on"),
        notes=form.text("notes"),
        next_review_on=form.day("nextReviewOn", "Next review on"),
    )


def revert_change(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    return c.RevertChange(
        agreement_id=aid,
        expected_version=version,
        idempotency_key=key,
        reason=form.text("reason"),
        change_id=form.get("changeId"),
    )


def revert_to_version(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    return c.RevertToVersion(
        agreement_id=aid,
        expected_version=version,
        idempotency_key=key,
        reason=form.text("reason"),
        version=form.whole("version", "Version"),
    )


def with_reason(command: type[c.AgreementCommand]) -> Build:
    """A command that takes nothing but its reason (request changes, reject, pause,
    resume, complete)."""

    def build(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
        return command(
            agreement_id=aid,
            expected_version=version,
            idempotency_key=key,
            reason=form.text("reason"),
        )

    return build


BUILDS: dict[str, Build] = {
    "approve": approve,
    "request-changes": with_reason(c.RequestChanges),
    "reject": with_reason(c.RejectAgreement),
    "guardrails": set_guardrails,
    "adjust": add_adjustment,
    "reallocate": reallocate,
    "review": record_review,
    "pause": with_reason(c.PauseAgreement),
    "resume": with_reason(c.ResumeAgreement),
    "complete": with_reason(c.CompleteAgreement),
}
"""The manager's actions on an agreement by the last segment of their URL (POST
/agreements/{id}/<action>); reverts have their own routes."""
