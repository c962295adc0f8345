"""What a webhook delivery carries: built in this one place, on top of the change
feed's public payload (projections.payload) and the access rules, so that whatever
the feed shows of personal data (sealed, opened or erased) deliveries show too, and
never more than the subscriber's role may read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.access import role_reads_all_events
from domain.agreement.events import AgreementEvent
from domain.webhooks.rules import REVIEW_DUE
from projections.global_ids import global_id
from projections.payload import event_payload


def webhook_payload(
    event: Any, position: int, role: str, person_id: str | None = None
) -> dict[str, Any] | None:
    """The JSON body for `event` at log `position`, for a subscriber reading as `role`
    (None: the role may not read it, nothing is sent). `person_id`: the HRIS id of a
    directory event's person (a profile change names only its stream)."""
    if not role_reads_all_events(role):
        return None
    body: dict[str, Any] = {
        "type": type(event).__name__,
        "position": position,
        "recordedAt": _instant(event.timestamp),
    }
    if isinstance(event, AgreementEvent):
        body.update(_agreement_ids(str(event.originator_id)))
    else:
        body["personId"] = person_id
    body["data"] = event_payload(event)
    return body


def review_due_payload(
    agreement_id: str, employee_id: str, due_on: date, position: int, recorded_at: datetime
) -> dict[str, Any]:
    """The `review.due` reminder: the agreement whose next review date has arrived, as
    of its latest event (`position`, `recorded_at`) when the date was seen due."""
    return {
        "type": REVIEW_DUE,
        "position": position,
        "recordedAt": _instant(recorded_at),
        **_agreement_ids(agreement_id),
        "data": {"employeeId": employee_id, "nextReviewOn": due_on.isoformat()},
    }


def _agreement_ids(agreement_id: str) -> dict[str, str]:
    """The agreement as both kinds of client name it: the bare UUID, and the global id
    that GraphQL's `agreement(id)`, `changes` and the mutations use."""
    return {"agreementId": agreement_id, "agreementGlobalId": global_id("Agreement", agreement_id)}


def _instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
