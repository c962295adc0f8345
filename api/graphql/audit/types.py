"""Audit log entries, and their connection (Relay)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.graphql.ids import global_id
from api.graphql.paging import PageInfo
from api.graphql.rows import Row


def _agreement_global_id(root: Row) -> strawberry.ID | None:
    value = root["agreement_id"]
    return None if value is None else strawberry.ID(global_id("Agreement", value))


def _agreement_uuid(root: Row) -> str | None:
    value: str | None = root["agreement_id"]
    return value


def _subscription_global_id(root: Row) -> strawberry.ID | None:
    if root["stream_type"] != "WEBHOOK":
        return None
    return strawberry.ID(global_id("WebhookSubscription", root["stream_id"]))


@strawberry.type
class AuditEvent:
    """One recorded event, exactly as stored, with its metadata."""

    position: int = strawberry.field(description="Position in the global log (commit order).")
    stream_type: str
    stream_id: str

    agreement_id: strawberry.ID | None = strawberry.field(
        resolver=_agreement_global_id,
        description="The agreement's global id (agreement(id), the mutations).",
    )
    agreement_uuid: str | None = strawberry.field(
        description="The agreement's bare UUID, as webhook bodies' agreementId names it.",
        resolver=_agreement_uuid,
    )
    subscription_id: strawberry.ID | None = strawberry.field(
        resolver=_subscription_global_id,
        description="For WEBHOOK events: the subscription's global id, as "
        "webhookSubscriptions names it (streamId is its bare UUID).",
    )

    version: int = strawberry.field(description="The version of its stream this event produced.")
    type: str
    recorded_at: datetime
    actor_id: str
    actor_role: str
    reason: str | None
    correlation_id: str
    idempotency_key: str | None
    payload: JSON


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo
