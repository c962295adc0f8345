"""Webhook queries: the caller's subscriptions, and one subscription's delivery log."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import ForbiddenError
from api.graphql.ids import cursor, parse_cursor
from api.graphql.paging import page, page_size
from api.graphql.webhooks.types import (
    SubscriptionNode,
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookSubscriptionConnection,
    WebhookSubscriptionEdge,
    subscription_uuid,
)
from domain.access import webhook_role
from domain.errors import Forbidden
from domain.values import Role

Ctx = Info[Context, None]


async def webhook_subscriptions(
    info: Ctx, first: int = 20, after: str | None = None
) -> WebhookSubscriptionConnection:
    """Subscriptions not deleted, oldest first: all for HR, an integration's own."""
    ctx = info.context
    try:
        webhook_role(ctx.actor)
    except Forbidden as error:
        raise ForbiddenError(error.message) from None
    size, position = page_size(first), parse_cursor("webhookSubscriptions", after)
    owner = None if ctx.actor.has(Role.HR) else ctx.actor.id
    rows = await asyncio.to_thread(ctx.ports.webhooks.subscription_rows, owner, size, position or 0)
    edges, page_info = page(
        rows,
        size,
        lambda r: cursor("webhookSubscriptions", int(r["created_position"])),
        SubscriptionNode.of_row,
    )
    return WebhookSubscriptionConnection(
        edges=[WebhookSubscriptionEdge(cursor=c, node=n) for c, n in edges], page_info=page_info
    )


async def webhook_deliveries(
    info: Ctx, subscription_id: strawberry.ID, first: int = 20, after: str | None = None
) -> WebhookDeliveryConnection:
    """A subscription's delivery log, newest first: status, attempts, latency, next retry."""
    ctx = info.context
    sid = subscription_uuid(subscription_id)
    size, before = page_size(first), parse_cursor("webhookDeliveries", after)
    port = ctx.ports.webhooks

    def load() -> list[dict[str, object]]:
        port.subscriptions.find(ctx.actor, sid)
        return port.delivery_rows(sid, size, before)

    try:
        rows = await asyncio.to_thread(load)
    except Forbidden as error:
        raise ForbiddenError(error.message) from None
    edges, page_info = page(
        rows, size, lambda r: cursor("webhookDeliveries", int(str(r["id"]))), WebhookDelivery.of_row
    )
    return WebhookDeliveryConnection(
        edges=[WebhookDeliveryEdge(cursor=c, node=n) for c, n in edges], page_info=page_info
    )
