"""What people are told about: the kinds a person may choose how to receive, and
which event belongs to which kind."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    DECISION_NEEDED = "decision_needed"  # a proposal or revision awaits the manager
    DECISION_MADE = "decision_made"  # approved, changes requested, rejected
    WORK_REALLOCATED = "work_reallocated"  # a task handed from one person to another
    AGREEMENT_CHANGED = "agreement_changed"  # adjustments, reverts, pause, resume, completion
    REVIEW_DUE = "review_due"  # a check-in is coming up or overdue
    HR_ALERT = "hr_alert"  # legal holds, deactivation waves held for HR


class Mode(StrEnum):
    IMMEDIATE = "IMMEDIATE"
    DAILY = "DAILY"
    OFF = "OFF"


# In a person's words, for the settings page and the digest's headings.
KIND_LABELS: dict[Kind, str] = {
    Kind.DECISION_NEEDED: "Proposals awaiting your decision",
    Kind.DECISION_MADE: "Decisions on your proposals",
    Kind.WORK_REALLOCATED: "Work handed to you or from you",
    Kind.AGREEMENT_CHANGED: "Changes to your agreements",
    Kind.REVIEW_DUE: "Reviews coming up or overdue",
    Kind.HR_ALERT: "Legal holds and deactivation waves (HR)",
}

EVENT_KINDS: dict[str, Kind] = {
    "Proposed": Kind.DECISION_NEEDED,
    "ProposalRevised": Kind.DECISION_NEEDED,
    "Approved": Kind.DECISION_MADE,
    "ChangesRequested": Kind.DECISION_MADE,
    "Rejected": Kind.DECISION_MADE,
    "TaskReallocated": Kind.WORK_REALLOCATED,
    "AdjustmentAdded": Kind.AGREEMENT_CHANGED,
    "ChangeReverted": Kind.AGREEMENT_CHANGED,
    "Paused": Kind.AGREEMENT_CHANGED,
    "Resumed": Kind.AGREEMENT_CHANGED,
    "Completed": Kind.AGREEMENT_CHANGED,
    "LegalHoldPlaced": Kind.HR_ALERT,
    "DeactivationsHeld": Kind.HR_ALERT,
}
REVIEW_SOON = "ReviewDueSoon"
REVIEW_OVERDUE = "ReviewOverdue"
