"""The service's code names in a person's words: event types, roles and the streams
events belong to. One mapping, shared by every page that shows them (the audit log, the
timeline, the sign-in confirmation), so a type reads alike everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable

from domain.sealing import ERASED
from domain.values import Role

# An erasure recorded before erasure reasons were kept in clear (domain.person): its
# reason was sealed under the key the erasure destroyed, so it can never be read again.
REASON_NOT_KEPT = "Not kept: this erasure was recorded before erasure reasons were kept"

# What each recorded event type says happened, as a heading or a filter choice.
EVENT_WORDS: dict[str, str] = {
    # an agreement's life
    "Proposed": "Proposed",
    "ProposalRevised": "Proposal revised",
    "ChangesRequested": "Changes requested",
    "Approved": "Approved",
    "Rejected": "Rejected",
    "GuardrailsChanged": "Guardrails changed",
    "AdjustmentAdded": "Adjustment added",
    "TaskReallocated": "Work reallocated",
    "ChangeReverted": "Change reverted",
    "ReviewRecorded": "Review recorded",
    "ArtifactRecorded": "Artifact recorded",
    "Paused": "Paused",
    "Resumed": "Resumed",
    "Completed": "Completed",
    "Withdrawn": "Withdrawn",
    "OutcomeRecorded": "Outcome recorded",
    "OutcomeReverted": "Outcome reverted",
    # a person in the directory
    "Registered": "Person registered",
    "ProfileChanged": "Profile changed",
    "ProvisioningChanged": "Account changed by the identity provider",
    "LegalHoldPlaced": "Legal hold placed",
    "LegalHoldLifted": "Legal hold lifted",
    "PersonErased": "Person erased",
    # the hours a person gives and receives (the reallocation ledger)
    "Booked": "Hours booked",
    "Released": "Hours released",
    # the directory's guard against mass deactivation
    "DeactivationsCounted": "Deactivations counted",
    "DeactivationsHeld": "Deactivation wave held",
    "HoldReleased": "Deactivation wave decided",
    # webhook subscriptions
    "Disabled": "Webhook disabled",
    "Deleted": "Webhook deleted",
    "SecretRotated": "Webhook secret rotated",
}
# Types whose words depend on the stream (the audit log's stream_type): the same class
# name is used by more than one aggregate.
STREAM_EVENT_WORDS: dict[tuple[str, str], str] = {
    ("LEDGER", "Opened"): "Hours ledger opened",
    ("DIRECTORY", "Opened"): "Deactivation guard opened",
    ("WEBHOOK", "Created"): "Webhook created",
    ("WEBHOOK", "Paused"): "Webhook paused",
    ("WEBHOOK", "Resumed"): "Webhook resumed",
}

# What an ended agreement led to (domain.agreement.outcomes.OutcomeKind), as a phrase.
OUTCOME_WORDS: dict[str, str] = {
    "MOVED_TO_TARGET_ROLE": "moved into the target role",
    "PROMOTED_IN_PLACE": "promoted in their current role",
    "SKILLS_DEMONSTRATED": "skills demonstrated, no move yet",
    "GOAL_CHANGED": "the goal changed",
    "STOPPED": "stopped",
}

ROLE_WORDS: dict[Role, str] = {
    Role.EMPLOYEE: "Employee",
    Role.MANAGER: "Manager",
    Role.HR: "HR",
    Role.AUDITOR: "Auditor",
    Role.INTEGRATION: "Integration",
}

# A role as what someone is, for "Signed in as an auditor" (someone with no entry in
# the directory, hence no name); the most specific first.
ROLE_NOUNS: dict[Role, str] = {
    Role.HR: "HR",
    Role.AUDITOR: "an auditor",
    Role.MANAGER: "a manager",
    Role.EMPLOYEE: "an employee",
    Role.INTEGRATION: "an integration",
}


def _split(code: str) -> str:
    """A code name nobody has worded yet, split into words ("SomethingNew" →
    "Something new"), so it is at least readable."""
    spaced = re.sub(r"(?<!^)(?=[A-Z])", " ", code.replace("_", " ")).strip()
    return spaced[:1].upper() + spaced[1:].lower()


def event_words(event_type: str, stream_type: str | None = None) -> str:
    """The event type in words ("ProposalRevised" → "Proposal revised")."""
    if stream_type is not None:
        specific = STREAM_EVENT_WORDS.get((stream_type, event_type))
        if specific is not None:
            return specific
    return EVENT_WORDS.get(event_type) or _split(event_type)


def reason_words(event_type: str, reason: str | None) -> str | None:
    """An event's reason as a page shows it: an old erasure's lost reason says why it
    is gone rather than "[erased]" (HR erased nobody's data by writing it)."""
    if event_type == "PersonErased" and reason == ERASED:
        return REASON_NOT_KEPT
    return reason


def role_words(role: Role | str) -> str:
    try:
        return ROLE_WORDS[Role(role)]
    except ValueError:
        return _split(str(role))


def roles_words(roles: Iterable[Role | str]) -> str:
    """Roles as a person reads them: "Employee and Manager"."""
    worded = sorted(role_words(r) for r in roles)
    if len(worded) <= 1:
        return "".join(worded)
    return ", ".join(worded[:-1]) + " and " + worded[-1]


def roles_phrase(roles: Iterable[Role]) -> str:
    """Who the roles make someone: "an auditor", "a manager and an employee"."""
    held = set(roles)
    nouns = [noun for role, noun in ROLE_NOUNS.items() if role in held]
    if len(nouns) <= 1:
        return "".join(nouns) or "someone without a role"
    return ", ".join(nouns[:-1]) + " and " + nouns[-1]
