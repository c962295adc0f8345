"""The manager's forms read into commands. Each field is named as the command's own
error names it (`guardrails.reviewEveryDays`, `toPersonId`, ...), so a rule
violation lands next to the field it is about; the commands judge every value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

from api.web.agreements import Build
from api.web.checks import Checked
from api.web.forms import Submitted
from domain import values as v
from domain.agreement.outcomes import NEEDS_REASON, OutcomeKind
from domain.application import commands as c
from domain.values import AdjustmentDraft, AdjustmentKind, Guardrails, ReviewOutcome

# The reason the preview of a revert to a version is judged with: the dry run records
# nothing, and the confirming form asks for the real reason.
PREVIEW_REASON = "Preview"


LABELS = {
    "guardrails.maxDevelopmentHoursPerWeek": "Most development hours per week",
    "guardrails.reviewEveryDays": "Review every (days)",
    "guardrails.protectedResponsibilities": "Protected responsibilities",
    "guardrails.endsOn": "Ends on",
    "task": "Task",
    "toPersonId": "Receiver",
    "hoursPerWeek": "Hours per week",
    "effectiveOn": "Effective on",
    "reason": "Reason",
    "adjustment.kind": "Kind",
    "adjustment.description": "Description",
    "adjustment.hoursPerWeek": "Hours per week",
    "adjustment.startsOn": "Starts on",
    "adjustment.endsOn": "Ends on",
    "outcome": "Outcome",
    "heldOn": "Held on",
    "notes": "Notes",
    "nextReviewOn": "Next review on",
    "version": "Version",
    "kind": "Outcome",
    "achievedOn": "When it happened",
}
"""The label each field of the manager's forms shows, for messages in its words."""

# The form field an error the domain names is shown at, by action: the development
# hours the guardrail is judged on are the guardrail's field, or the adjustment's.
WHERE: dict[str, dict[str, str]] = {
    "approve": {"hoursPerWeek": "guardrails.maxDevelopmentHoursPerWeek"},
    "guardrails": {"hoursPerWeek": "guardrails.maxDevelopmentHoursPerWeek"},
    "adjust": {"hoursPerWeek": "adjustment.hoursPerWeek"},
}


def label(field: str) -> str | None:
    return LABELS.get(field)


def where(action: str) -> Callable[[str], str]:
    """Where the form of `action` shows an error the domain names `field`."""
    moved = WHERE.get(action, {})
    return lambda field: moved.get(field, field)


def _hours(check: Checked, field: str) -> float | None:
    given = check.number(field)
    if given is None:
        return None
    return check.check(field, lambda: v.hours(given, field, maximum=40))


def _day(check: Checked, field: str) -> date | None:
    found = check.day(field)
    check.check(field, lambda: v.optional_day(found, field))
    return found


def guardrails(form: Submitted) -> Guardrails:
    """Guardrails as given on approval or when changing them; every field checked by
    the domain's rules, all mistakes told at once."""
    check = Checked(form, label)
    most = _hours(check, "guardrails.maxDevelopmentHoursPerWeek")
    every = check.whole("guardrails.reviewEveryDays")
    if every is not None and not 1 <= every <= 365:
        check.errors["guardrails.reviewEveryDays"] = "Review every (days) must be 1 to 365."
    protected = check.check(
        "guardrails.protectedResponsibilities",
        lambda: v.skills(
            form.words("guardrails.protectedResponsibilities"),
            "guardrails.protectedResponsibilities",
        ),
    )
    ends = _day(check, "guardrails.endsOn")
    check.done()
    return Guardrails(
        max_development_hours_per_week=most or 0,
        protected_responsibilities=protected or (),
        review_every_days=every or 0,
        ends_on=ends,
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
    check = Checked(form, label)
    kind = check.check(
        "adjustment.kind",
        lambda: v.choice(AdjustmentKind, form.get("adjustment.kind"), "adjustment.kind"),
    )
    check.check(
        "adjustment.description",
        lambda: v.text(
            form.get("adjustment.description"), "adjustment.description", max_length=2000
        ),
    )
    hours = _hours(check, "adjustment.hoursPerWeek")
    starts = _day(check, "adjustment.startsOn")
    ends = _day(check, "adjustment.endsOn")
    check.check("adjustment.endsOn", lambda: v.date_range(starts, ends, "adjustment.endsOn"))
    check.done()
    draft = AdjustmentDraft(
        kind=kind or AdjustmentKind.TASK,
        description=form.get("adjustment.description"),
        hours_per_week=hours or 0,
        starts_on=starts,
        ends_on=ends,
    )
    return c.AddAdjustment(
        agreement_id=aid, expected_version=version, idempotency_key=key, adjustment=draft
    )


def reallocate(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    check = Checked(form, label)
    check.check("task", lambda: v.text(form.get("task"), "task", max_length=200))
    if not form.text("toPersonId"):
        check.errors["toPersonId"] = "Choose who receives the task."
    hours = _hours(check, "hoursPerWeek")
    effective = _day(check, "effectiveOn")
    check.check("reason", lambda: v.reason(form.text("reason")))
    check.done()
    return c.ReallocateTask(
        agreement_id=aid,
        expected_version=version,
        idempotency_key=key,
        reason=form.text("reason"),
        task=form.get("task"),
        hours_per_week=hours or 0,
        to_person_id=form.get("toPersonId"),
        effective_on=effective,
    )


def record_review(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    check = Checked(form, label)
    check.check("outcome", lambda: v.choice(ReviewOutcome, form.get("outcome"), "outcome"))
    held = _day(check, "heldOn")
    check.check("notes", lambda: v.optional_text(form.text("notes"), "notes", max_length=5000))
    after = _day(check, "nextReviewOn")
    check.done()
    return c.RecordReview(
        agreement_id=aid,
        expected_version=version,
        idempotency_key=key,
        outcome=form.get("outcome"),
        held_on=held,
        notes=form.text("notes"),
        next_review_on=after,
    )


def record_outcome(form: Submitted, aid: UUID, version: int, key: str) -> c.Command:
    """What an ended agreement led to; a stop or a changed goal says why."""
    check = Checked(form, label)
    kind = None
    if form.text("kind") is None:
        check.errors["kind"] = "Choose what the agreement led to."
    else:
        kind = check.check("kind", lambda: v.choice(OutcomeKind, form.get("kind"), "kind"))
    on = _day(check, "achievedOn")
    if kind in NEEDS_REASON and form.text("reason") is None:
        said = "it stopped" if kind is OutcomeKind.STOPPED else "the goal changed"
        check.errors["reason"] = f"Say why {said}: a reason is required for this outcome."
    check.done()
    return c.RecordOutcome(
        agreement_id=aid,
        expected_version=version,
        idempotency_key=key,
        reason=form.text("reason"),
        kind=form.get("kind"),
        achieved_on=on,
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
    "outcome": record_outcome,
    "revert-outcome": with_reason(c.RevertOutcome),
}
"""The manager's actions on an agreement by the last segment of their URL (POST
/agreements/{id}/<action>); reverts have their own routes."""
