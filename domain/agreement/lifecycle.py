"""Which status allows which action: the lifecycle, published once.

The aggregate guards its commands with it, and everything that shows or plans actions
(the web pages, the projector, the workers) reads it here instead of restating status
literals, so a change to the lifecycle is one edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from domain.values import AgreementStatus

S = AgreementStatus


class Action(StrEnum):
    """What may be done to an agreement (reads aside)."""

    REVISE = "revise"
    REQUEST_CHANGES = "request_changes"
    APPROVE = "approve"
    REJECT = "reject"
    SET_GUARDRAILS = "set_guardrails"
    ADD_ADJUSTMENT = "add_adjustment"
    REALLOCATE = "reallocate"
    RECORD_REVIEW = "record_review"
    RECORD_ARTIFACT = "record_artifact"
    SET_SKETCH = "set_sketch"
    REVERT = "revert"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    WITHDRAW = "withdraw"


# What each action is called in an error message ("Cannot approve: …").
ACTION_WORDS: Mapping[Action, str] = {
    Action.REVISE: "revise the proposal",
    Action.REQUEST_CHANGES: "request changes",
    Action.APPROVE: "approve",
    Action.REJECT: "reject",
    Action.SET_GUARDRAILS: "set guardrails",
    Action.ADD_ADJUSTMENT: "add an adjustment",
    Action.REALLOCATE: "reallocate a task",
    Action.RECORD_REVIEW: "record a review",
    Action.RECORD_ARTIFACT: "record an artifact",
    Action.SET_SKETCH: "change the sketch",
    Action.REVERT: "revert a change",
    Action.PAUSE: "pause",
    Action.RESUME: "resume",
    Action.COMPLETE: "complete",
    Action.WITHDRAW: "withdraw",
}

_OPEN = frozenset({S.PROPOSED, S.CHANGES_REQUESTED})
_RUNNING = frozenset({S.ACTIVE, S.PAUSED})

ALLOWED_IN: Mapping[Action, frozenset[AgreementStatus]] = {
    Action.REVISE: _OPEN,
    Action.REQUEST_CHANGES: frozenset({S.PROPOSED}),
    Action.APPROVE: frozenset({S.PROPOSED}),
    Action.REJECT: _OPEN,
    Action.SET_GUARDRAILS: _RUNNING,
    Action.ADD_ADJUSTMENT: frozenset({S.ACTIVE}),
    Action.REALLOCATE: frozenset({S.ACTIVE}),
    Action.RECORD_REVIEW: _RUNNING,
    Action.RECORD_ARTIFACT: _RUNNING,
    # The sketch is drawn with the proposal and redrawn while the agreement runs.
    Action.SET_SKETCH: _OPEN | _RUNNING,
    Action.REVERT: _RUNNING,
    Action.PAUSE: frozenset({S.ACTIVE}),
    Action.RESUME: frozenset({S.PAUSED}),
    Action.COMPLETE: _RUNNING,
    Action.WITHDRAW: frozenset(s for s in S if not s.is_final),
}

# Statuses in which reviews are due and reallocations hold hours: the agreement runs.
RUNNING: frozenset[AgreementStatus] = _RUNNING

# The status whose due reviews are listed and reminded (`reviewsDue`, the inbox, the
# `review.due` webhook): a paused agreement still accepts a review, but nobody is chased
# for one while it is paused.
REVIEWS_DUE_IN: AgreementStatus = S.ACTIVE


def allows(status: AgreementStatus | str, action: Action) -> bool:
    """Whether an agreement in this status accepts this action."""
    return AgreementStatus(status) in ALLOWED_IN[action]


def actions(status: AgreementStatus | str) -> frozenset[Action]:
    """Every action an agreement in this status accepts."""
    current = AgreementStatus(status)
    return frozenset(a for a, allowed in ALLOWED_IN.items() if current in allowed)
