"""What an agreement led to: its outcome, recorded once it has ended (completed or
withdrawn), by the manager or HR, at the end or later (a move can follow months after).

An outcome is recorded by an event and undone by another that names it, so a mistaken
outcome is corrected the way every change is: nothing is edited, the audit trail shows
both. Recording a new outcome over one in effect replaces it (the earlier one stays in
the history); reverting the outcome in effect brings back the one before it, if any.
Self-contained (its own events and state field) so the aggregate's other events need
not know about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from domain.agreement.events import AgreementEvent
from domain.agreement.topics import keep_stored_topics


class OutcomeKind(StrEnum):
    MOVED_TO_TARGET_ROLE = "MOVED_TO_TARGET_ROLE"
    PROMOTED_IN_PLACE = "PROMOTED_IN_PLACE"
    SKILLS_DEMONSTRATED = "SKILLS_DEMONSTRATED"  # no move (yet)
    GOAL_CHANGED = "GOAL_CHANGED"
    STOPPED = "STOPPED"  # with a reason (the event's)


# Outcomes that count as career progression in the insights (a move or a promotion).
PROGRESSED = frozenset({OutcomeKind.MOVED_TO_TARGET_ROLE, OutcomeKind.PROMOTED_IN_PLACE})
# Outcomes that must say why.
NEEDS_REASON = frozenset({OutcomeKind.STOPPED, OutcomeKind.GOAL_CHANGED})

# One outcome as the aggregate holds it: plain values, so snapshots store it as JSON.
# {"id", "kind", "on" (ISO date), "reverted" (bool)}; since outcomes show on the agreement
# also who recorded it, when and at which version ("by", "at", "version") and who reverted
# it when ("reverted_by", "reverted_at"): entries of older snapshots lack those (`.get`).
# Never the reason: it is personal text, sealed in the event, and snapshots are plain JSON.
OutcomeEntry = Mapping[str, Any]


class OutcomeRecorded(AgreementEvent):
    outcome_id: str
    kind: str  # an OutcomeKind
    achieved_on: date

    def apply(self, agreement: Any) -> None:
        entry = {
            "id": self.outcome_id,
            "kind": self.kind,
            "on": self.achieved_on.isoformat(),
            "reverted": False,
            "by": self.actor_id,
            "at": self.timestamp.isoformat(),
            "version": self.originator_version,
        }
        agreement.outcomes = (*agreement.outcomes, entry)


class OutcomeReverted(AgreementEvent):
    outcome_id: str

    def apply(self, agreement: Any) -> None:
        agreement.outcomes = tuple(
            {
                **e,
                "reverted": True,
                "reverted_by": self.actor_id,
                "reverted_at": self.timestamp.isoformat(),
            }
            if e["id"] == self.outcome_id
            else e
            for e in agreement.outcomes
        )


def current(outcomes: tuple[OutcomeEntry, ...]) -> OutcomeEntry | None:
    """The outcome in effect: the latest one recorded and not reverted."""
    for entry in reversed(outcomes):
        if not entry["reverted"]:
            return entry
    return None


keep_stored_topics("domain.agreement_events", OutcomeRecorded, OutcomeReverted)
