"""A recorded event (an audit-log row) told in one line, for the timeline and the
audit-log search; and the event types a search can pick from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from api.read_side import Row
from api.web.words import OUTCOME_WORDS, event_words

Payload = Mapping[str, Any]


def _hours(value: Any) -> str:
    return f"{float(value):g} h/week" if isinstance(value, int | float) else "? h/week"


def _word(value: Any) -> str:
    return str(value or "").replace("_", " ").lower()


def _guardrails(g: Payload) -> str:
    return (
        f"at most {_hours(g.get('maxDevelopmentHoursPerWeek'))} of development, "
        f"a review every {g.get('reviewEveryDays', '?')} days"
    )


def _adjustment(p: Payload, _: Mapping[str, str]) -> str:
    a = p.get("adjustment") or {}
    return (
        f"Added an adjustment: {a.get('description', '')} "
        f"({_word(a.get('kind'))}, {_hours(a.get('hoursPerWeek'))})"
    )


def _reallocation(p: Payload, names: Mapping[str, str]) -> str:
    r = p.get("reallocation") or {}
    giver, taker = r.get("fromPersonId", ""), r.get("toPersonId", "")
    return (
        f"Reallocated “{r.get('task', '')}”, {_hours(r.get('hoursPerWeek'))}, from "
        f"{names.get(giver, giver)} to {names.get(taker, taker)}"
    )


def _revert(p: Payload, _: Mapping[str, str]) -> str:
    to = p.get("toVersion")
    return "Reverted a change" + (f" (reverting to version {to})" if to else "")


DESCRIBE: dict[str, Callable[[Payload, Mapping[str, str]], str]] = {
    "Proposed": lambda p, _: f"Proposed “{p.get('title', '')}”",
    "ProposalRevised": lambda p, _: f"Revised the proposal: “{p.get('title', '')}”",
    "ChangesRequested": lambda p, _: "Requested changes",
    "Approved": lambda p, _: f"Approved, with guardrails: {_guardrails(p.get('guardrails') or {})}",
    "Rejected": lambda p, _: "Rejected",
    "GuardrailsChanged": lambda p, _: (
        f"Changed the guardrails: {_guardrails(p.get('guardrails') or {})}"
    ),
    "AdjustmentAdded": _adjustment,
    "TaskReallocated": _reallocation,
    "ChangeReverted": _revert,
    "ReviewRecorded": lambda p, _: (
        f"Recorded a review: {_word((p.get('review') or {}).get('outcome'))}"
    ),
    "SketchChanged": lambda p, _: "Redrew the crafting sketch",
    "ArtifactRecorded": lambda p, _: (
        f"Recorded an artifact: {(p.get('artifact') or {}).get('title', '')}"
    ),
    "Paused": lambda p, _: "Paused",
    "Resumed": lambda p, _: "Resumed",
    "Completed": lambda p, _: "Completed",
    "Withdrawn": lambda p, _: "Withdrawn",
    "OutcomeRecorded": lambda p, _: (
        f"Recorded the outcome: "
        f"{OUTCOME_WORDS.get(str(p.get('kind')), _word(p.get('kind')))}, on {p.get('achievedOn')}"
    ),
    "OutcomeReverted": lambda p, _: "Reverted the outcome (the one before it, if any, is back)",
    "DossierIssued": lambda p, names: (
        f"Dossier issued to {names.get(p.get('issuedTo', ''), p.get('issuedTo', ''))} "
        f"(showing version {p.get('agreementVersion', '?')})"
    ),
}
# Types a search offers (any stored type may still be asked for by name).
PERSON_TYPES = (
    "Registered",
    "ProfileChanged",
    "ProvisioningChanged",
    "LegalHoldPlaced",
    "LegalHoldLifted",
    "PersonErased",
)
SEARCHABLE_TYPES = (*DESCRIBE, *PERSON_TYPES)


def change_named(event: Row, change_id: str, names: Mapping[str, str]) -> str:
    """The change `change_id`, recorded by `event`, in a few words ("the adjustment
    “Shadow a PM”"): what a revert says it undid."""
    p = event["payload"] or {}
    adjustments = [p["adjustment"]] if isinstance(p.get("adjustment"), dict) else []
    adjustments += [a for a in p.get("adjustments") or () if isinstance(a, dict)]
    for a in adjustments:
        if str(a.get("changeId")) == change_id:
            return f"the adjustment “{a.get('description', '')}”"
    r = p.get("reallocation")
    if isinstance(r, dict) and str(r.get("changeId")) == change_id:
        taker = str(r.get("toPersonId", ""))
        return f"the reallocation of “{r.get('task', '')}” to {names.get(taker, taker)}"
    if event["type"] in ("GuardrailsChanged", "Approved"):
        return f"the guardrails ({_guardrails(p.get('guardrails') or {})})"
    if event["type"] == "ChangeReverted":
        return "a revert"
    return "a change"


def describe(event: Row, names: Mapping[str, str]) -> str:
    """One line saying what the event recorded (people by display name)."""
    known = DESCRIBE.get(event["type"])
    if known is not None:
        return known(event["payload"] or {}, names)
    return event_words(event["type"], event["stream_type"])
