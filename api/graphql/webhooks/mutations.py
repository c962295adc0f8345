"""Webhook subscription mutations (INTEGRATION and HR). The secret is in the payload of
`createWebhookSubscription` and `rotateWebhookSecret` only: shown once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import strawberry
from strawberry.types import Info

from api.graphql.commands import UserError, user_errors
from api.graphql.context import Context
from api.graphql.errors import BadInputError, ForbiddenError
from api.graphql.webhooks.inputs import (
    CreateWebhookSubscriptionInput,
    RedeliverWebhooksInput,
    WebhookSubscriptionInput,
)
from api.graphql.webhooks.types import SubscriptionNode, subscription_uuid
from api.http.metrics import COMMANDS
from domain.errors import DomainError, Forbidden
from domain.webhooks.service import Outcome

Ctx = Info[Context, None]
T = TypeVar("T")
MAX_REDELIVER_SPAN = 1_000_000  # positions; larger ranges are split by the caller


@strawberry.type
class WebhookSubscriptionPayload:
    subscription: SubscriptionNode | None
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…): shown only here, only now."
    )
    position: int | None
    user_errors: list[UserError]


@strawberry.type
class RedeliverWebhooksPayload:
    queued: int = strawberry.field(description="Messages queued again.")
    user_errors: list[UserError]


async def _run(ctx: Context, name: str, call: Callable[[], T]) -> T:
    try:
        result = await asyncio.to_thread(call)
    except Forbidden as error:
        COMMANDS.labels(name, "FORBIDDEN").inc()
        raise ForbiddenError(error.message) from None
    except DomainError as error:
        COMMANDS.labels(name, error.code).inc()
        raise
    COMMANDS.labels(name, "OK").inc()
    return result


def _payload(outcome: Outcome, reason: str | None = None) -> WebhookSubscriptionPayload:
    return WebhookSubscriptionPayload(
        subscription=SubscriptionNode.of_aggregate(outcome.subscription, reason),
        secret=outcome.secret,
        position=outcome.position,
        user_errors=[],
    )


def _refused(error: DomainError | BadInputError) -> WebhookSubscriptionPayload:
    return WebhookSubscriptionPayload(
        subscription=None, secret=None, position=None, user_errors=user_errors(error)
    )


async def create_webhook_subscription(
    info: Ctx, input: CreateWebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """Subscribe a URL to event types (optionally one team's); returns the secret once."""
    ctx = info.context
    service = ctx.ports.webhooks.subscriptions
    try:
        outcome = await _run(
            ctx,
            "CreateWebhookSubscription",
            lambda: service.create(
                ctx.command_request, input.url, list(input.event_types), input.team_id
            ),
        )
    except DomainError as error:
        return _refused(error)
    return _payload(outcome)


async def _change(
    info: Ctx, input: WebhookSubscriptionInput, name: str
) -> WebhookSubscriptionPayload:
    ctx = info.context
    service = ctx.ports.webhooks.subscriptions
    steps = {
        "PauseWebhookSubscription": service.pause,
        "ResumeWebhookSubscription": service.resume,
        "DeleteWebhookSubscription": service.delete,
    }
    try:
        sid = subscription_uuid(input.subscription_id)
        outcome = await _run(ctx, name, lambda: steps[name](ctx.command_request, sid, input.reason))
    except (DomainError, BadInputError) as error:
        return _refused(error)
    return _payload(outcome, input.reason)


async def pause_webhook_subscription(
    info: Ctx, input: WebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """Stop deliveries; what happens meanwhile is delivered on resume."""
    return await _change(info, input, "PauseWebhookSubscription")


async def resume_webhook_subscription(
    info: Ctx, input: WebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """Deliver again (paused or disabled), from where deliveries stopped."""
    return await _change(info, input, "ResumeWebhookSubscription")


async def delete_webhook_subscription(
    info: Ctx, input: WebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """Stop for good and destroy the secrets."""
    return await _change(info, input, "DeleteWebhookSubscription")


async def rotate_webhook_secret(
    info: Ctx, input: WebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """A new secret, shown once; the old one also signs until the grace period ends."""
    ctx = info.context
    service = ctx.ports.webhooks.subscriptions
    try:
        sid = subscription_uuid(input.subscription_id)
        outcome = await _run(
            ctx, "RotateWebhookSecret", lambda: service.rotate(ctx.command_request, sid)
        )
    except (DomainError, BadInputError) as error:
        return _refused(error)
    return _payload(outcome)


async def redeliver_webhooks(info: Ctx, input: RedeliverWebhooksInput) -> RedeliverWebhooksPayload:
    """Queue a subscription's messages between two log positions again (same ids)."""
    ctx = info.context
    port = ctx.ports.webhooks
    try:
        sid = subscription_uuid(input.subscription_id)
        if input.from_position < 1 or input.to_position < input.from_position:
            raise BadInputError(
                "fromPosition must be at least 1 and at most toPosition.", field="fromPosition"
            )
        if input.to_position - input.from_position > MAX_REDELIVER_SPAN:
            raise BadInputError(
                f"Redeliver at most {MAX_REDELIVER_SPAN} positions at once.", field="toPosition"
            )

        def run() -> int:
            port.subscriptions.find(ctx.actor, sid)
            return port.redeliver(sid, input.from_position, input.to_position)

        queued = await _run(ctx, "RedeliverWebhooks", run)
    except (DomainError, BadInputError) as error:
        return RedeliverWebhooksPayload(queued=0, user_errors=user_errors(error))
    return RedeliverWebhooksPayload(queued=queued, user_errors=[])
