"""What each message says, in the reader's words: who did what to which agreement,
why, and what the reader can do next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from infra.notifications.kinds import REVIEW_OVERDUE, REVIEW_SOON


@dataclass(frozen=True)
class Facts:
    """Everything a message may show, opened just before sending."""

    event_type: str
    recipient_id: str
    recipient_name: str
    actor_name: str  # who acted ("HR" when they are not in the directory)
    employee_id: str | None
    employee_name: str | None
    title: str | None  # the agreement's
    reason: str | None
    event: Any | None  # None for review reminders
    names: dict[str, str] = field(default_factory=dict)  # person id -> display name
    due_on: date | None = None
    today: date | None = None


@dataclass(frozen=True)
class Wording:
    subject: str
    headline: str
    paragraphs: list[str]
    details: list[tuple[str, str]]
    action: str  # the link's label


def _hours(value: float) -> str:
    return f"{value:g} hour{'s' if value != 1 else ''} a week"


def _date(value: date) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


def words(facts: Facts) -> Wording:
    """The subject, headline, paragraphs, details and link label of one message."""
    kind = facts.event_type
    title = f"“{facts.title}”" if facts.title else "an agreement"
    actor, employee = facts.actor_name, facts.employee_name or "the employee"
    reason = [("Reason", facts.reason)] if facts.reason else []
    you_are_employee = facts.recipient_id == facts.employee_id
    whose = (
        "your agreement"
        if you_are_employee
        else f"{employee}\N{RIGHT SINGLE QUOTATION MARK}s agreement"
    )
    event = facts.event
    if kind == "Proposed":
        return Wording(
            f"{employee} proposed {title} — awaiting your decision",
            f"{employee} proposed a crafting agreement",
            [
                f"{employee} asks you to approve {title}. You can approve it with guardrails, "
                "ask for changes or reject it."
            ],
            [],
            "Review the proposal",
        )
    if kind == "ProposalRevised":
        return Wording(
            f"{employee} revised {title} — awaiting your decision",
            f"{employee} revised their proposal",
            [f"{employee} changed {title} and asks for your decision again."],
            [],
            "Review the revision",
        )
    if kind == "Approved":
        g = event.guardrails if event is not None else None
        details = []
        if g is not None:
            details.append(
                ("Development time", f"up to {_hours(g.max_development_hours_per_week)}")
            )
            details.append(("Reviews", f"every {g.review_every_days} days"))
            if g.protected_responsibilities:
                details.append(("Stays with you", ", ".join(g.protected_responsibilities)))
        if event is not None:
            details.append(("First review", _date(event.next_review_on)))
        return Wording(
            f"{actor} approved {title}",
            f"{title} is approved",
            [f"{actor} approved {whose}. It is active now, within these guardrails:"],
            details,
            "Open your agreement",
        )
    if kind == "ChangesRequested":
        return Wording(
            f"{actor} asked for changes to {title}",
            "Changes requested",
            [f"{actor} asked you to change {title} before deciding. Revise it and send it again."],
            reason,
            "Revise your proposal",
        )
    if kind == "Rejected":
        return Wording(
            f"{actor} rejected {title}",
            f"{title} was rejected",
            [f"{actor} rejected {whose}. It is closed; you can propose a new one."],
            reason,
            "Open the agreement",
        )
    if kind == "TaskReallocated":
        assert event is not None
        r = event.reallocation
        to, giver = (
            facts.names.get(r.to_person_id, "a colleague"),
            facts.names.get(r.from_person_id, "a colleague"),
        )
        receiving = facts.recipient_id == r.to_person_id
        details = [
            ("Task", r.task),
            ("Time", _hours(r.hours_per_week)),
            ("Given by", giver),
            ("Given to", to),
            ("Starting", _date(r.effective_on)),
            ("Reason", r.reason),
        ]
        if receiving:
            return Wording(
                f"{giver} is handing you “{r.task}” ({_hours(r.hours_per_week)})",
                "Work handed to you",
                [f"{actor} reallocated a task to you from {giver}, as part of {whose}."],
                details,
                "See the agreement",
            )
        return Wording(
            f"“{r.task}” goes to {to} ({_hours(r.hours_per_week)})",
            "Work handed on",
            [f"{actor} reallocated a task of yours to {to}, freeing the time for {title}."],
            details,
            "See the agreement",
        )
    if kind == "AdjustmentAdded":
        assert event is not None
        a = event.adjustment
        return Wording(
            f"{actor} added an adjustment to {title}",
            "An adjustment was added",
            [f"{actor} added an adjustment to {whose}."],
            [("Adjustment", a.description), ("Time", _hours(a.hours_per_week))],
            "Open the agreement",
        )
    if kind == "ChangeReverted":
        return Wording(
            f"{actor} reverted a change to {title}",
            "A change was reverted",
            [f"{actor} reverted a change to {whose}; what it changed is as it was before."],
            reason,
            "See what changed",
        )
    if kind in ("Paused", "Resumed", "Completed"):
        verb = {"Paused": "paused", "Resumed": "resumed", "Completed": "completed"}[kind]
        return Wording(
            f"{actor} {verb} {title}",
            f"{title} was {verb}",
            [f"{actor} {verb} {whose}."],
            reason if kind == "Paused" else [],
            "Open the agreement",
        )
    if kind in (REVIEW_SOON, REVIEW_OVERDUE):
        assert facts.due_on is not None
        late = kind == REVIEW_OVERDUE
        when = _date(facts.due_on)
        with_whom = "your manager" if you_are_employee else employee
        return Wording(
            (f"Review overdue: {title}" if late else f"Review due {when}: {title}"),
            "A review is overdue" if late else "A review is coming up",
            [
                (
                    f"The check-in on {whose} was due on {when}."
                    if late
                    else f"The check-in on {whose} is due on {when}."
                ),
                f"Plan it with {with_whom}; the calendar file adds it to your calendar.",
            ],
            [("Review date", when)],
            "Open the agreement",
        )
    if kind == "LegalHoldPlaced":
        return Wording(
            f"Legal hold placed on {employee}",
            "A legal hold was placed",
            [
                f"{actor} placed a legal hold on {employee}: their data will not be erased "
                "until the hold is lifted."
            ],
            reason,
            "Open the directory",
        )
    if kind == "DeactivationsHeld":
        count = len(event.person_ids) if event is not None else 0
        people = f"{count} {'person' if count == 1 else 'people'}"
        return Wording(
            f"{people} held from deactivation for your decision",
            "A deactivation wave is held",
            [
                f"The identity provider deactivated {people} at once, more than the guard "
                "allows. They stay active until HR confirms the wave "
                "(confirmDeactivations) or dismisses it (dismissDeactivations); "
                "heldDeactivations lists them.",
            ],
            [],
            "Open the directory",
        )
    raise ValueError(f"no wording for {kind}")
