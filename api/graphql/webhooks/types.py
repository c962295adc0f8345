"""Webhook subscriptions and their delivery log, as GraphQL types."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import strawberry

from api.graphql.errors import BadInputError
from api.graphql.ids import global_id, parse_global_id
from api.graphql.paging import PageInfo
from domain.webhooks import SubscriptionStatus, WebhookSubscription

strawberry.enum(SubscriptionStatus, name="WebhookSubscriptionStatus")


def subscription_uuid(value: str, field: str = "subscriptionId") -> UUID:
    """A subscription id: its global id, or the bare UUID."""
    try:
        return UUID(value)
    except ValueError:
        pass
    try:
        kind, key = parse_global_id(value)
        if kind == "WebhookSubscription":
            return UUID(key)
    except (BadInputError, ValueError):
        pass
    raise BadInputError("Not a valid subscription id.", field=field)


def _instant(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@strawberry.type(
    name="WebhookSubscription",
    description="Where and what the service pushes (Standard Webhooks 1.0).",
)
class SubscriptionNode:
    id: strawberry.ID
    url: str
    event_types: list[str] = strawberry.field(description='Event types, or ["*"] for all.')
    team_id: str | None
    status: SubscriptionStatus
    status_reason: str | None = strawberry.field(
        description="Why it was paused, disabled or deleted, when a reason was given."
    )
    owner_id: str = strawberry.field(description="Who created it.")
    version: int = strawberry.field(
        description="The subscription's version as shown here: pass it as expectedVersion "
        "to a command on it (VERSION_CONFLICT if it has moved on since)."
    )

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> SubscriptionNode:
        """From the delivery worker's subscriptions table."""
        return cls(
            id=strawberry.ID(global_id("WebhookSubscription", row["subscription_id"])),
            url=row["url"],
            event_types=list(row["event_types"]),
            team_id=row["team_id"],
            status=SubscriptionStatus(row["status"]),
            status_reason=row["status_reason"],
            owner_id=row["owner_id"],
            version=row["version"],
        )

    @classmethod
    def of_aggregate(cls, sub: WebhookSubscription, reason: str | None) -> SubscriptionNode:
        """From the write model, as the command left it (the table may lag)."""
        return cls(
            id=strawberry.ID(global_id("WebhookSubscription", str(sub.id))),
            url=sub.url,
            event_types=list(sub.event_types),
            team_id=sub.team_id,
            status=SubscriptionStatus(sub.status),
            status_reason=reason,
            owner_id=sub.owner_id,
            version=sub.version,
        )


@strawberry.type
class WebhookSubscriptionEdge:
    cursor: str
    node: SubscriptionNode


@strawberry.type
class WebhookSubscriptionConnection:
    edges: list[WebhookSubscriptionEdge]
    page_info: PageInfo


@strawberry.type(description="One message to one subscription, and how its delivery went.")
class WebhookDelivery:
    webhook_id: str = strawberry.field(description="The `webhook-id` header: dedupe on it.")
    type: str
    position: int
    agreement_id: str | None
    person_id: str | None
    due_on: date | None = strawberry.field(description="review.due only.")
    status: str = strawberry.field(description="PENDING, DELIVERED or SKIPPED.")
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_latency_ms: float | None
    last_error: str | None = strawberry.field(
        description="What went wrong, or the first bytes of the receiver's answer."
    )
    next_attempt_at: datetime | None = strawberry.field(description="When pending.")
    delivered_at: datetime | None

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> WebhookDelivery:
        pending = row["status"] == "PENDING"
        return cls(
            webhook_id=row["message_id"],
            type=row["event_type"],
            position=row["position"],
            agreement_id=row["agreement_id"],
            person_id=None if row["agreement_id"] else row["person_id"],
            due_on=row["due_on"],
            status=row["status"],
            attempts=row["attempts"],
            created_at=_instant(row["created_at"]) or datetime.now(UTC),
            last_attempt_at=_instant(row["last_attempt_at"]),
            last_status_code=row["last_status_code"],
            last_latency_ms=row["last_latency_ms"],
            last_error=row["last_error"],
            next_attempt_at=_instant(row["next_attempt_at"]) if pending else None,
            delivered_at=_instant(row["delivered_at"]),
        )


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: PageInfo
