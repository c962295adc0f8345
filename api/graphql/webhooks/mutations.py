"""Webhook subscription mutations (INTEGRATION and HR). The secret is in the payload of
`createWebhookSubscription` and `rotateWebhookSecret` only: shown once."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.commands import UserError, execute, user_errors
from api.graphql.context import Context
from api.graphql.errors import BadInputError
from api.graphql.webhooks.inputs import (
    CreateWebhookSubscriptionInput,
    RedeliverWebhooksInput,
    WebhookSubscriptionInput,
)
from api.graphql.webhooks.types import SubscriptionNode, subscription_uuid
from domain.application import CommandResult
from domain.application import commands as c
from domain.errors import DomainError

Ctx = Info[Context, None]
# What every subscription command answers with, said once.
POSITION = "Log position of the subscription's event (auditLog, changes)."
VERSION = (
    "The subscription's version after the command: pass it as expectedVersion to the "
    "next command on it."
)
REPLAYED = "True when an idempotency key matched."


@strawberry.type
class WebhookSubscriptionPayload:
    subscription: SubscriptionNode | None
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…): only in the answer to the command that "
        "issued it (create, rotate) and to a replay of that command with its "
        "idempotencyKey while the secret still signs."
    )
    position: int | None = strawberry.field(description=POSITION)
    version: int | None = strawberry.field(description=VERSION)
    replayed: bool = strawberry.field(description=REPLAYED)
    user_errors: list[UserError]


@strawberry.type
class RedeliverWebhooksPayload:
    queued: int = strawberry.field(
        description="Messages queued again: those the delivery worker had queued in the "
        "range when asked (sent again in their order, before anything after them); any "
        "it reaches later in the range are sent as they come."
    )
    position: int | None = strawberry.field(description=POSITION)
    version: int | None = strawberry.field(description=VERSION)
    replayed: bool = strawberry.field(description=REPLAYED)
    user_errors: list[UserError]


def _payload(result: CommandResult, reason: str | None = None) -> WebhookSubscriptionPayload:
    sub = result.subscription
    assert sub is not None
    return WebhookSubscriptionPayload(
        subscription=SubscriptionNode.of_aggregate(sub, None if result.replayed else reason),
        secret=result.secret,
        position=result.position,
        version=sub.version,
        replayed=result.replayed,
        user_errors=[],
    )


def _refused(error: DomainError | BadInputError) -> WebhookSubscriptionPayload:
    return WebhookSubscriptionPayload(
        subscription=None,
        secret=None,
        position=None,
        version=None,
        replayed=False,
        user_errors=user_errors(error),
    )


async def create_webhook_subscription(
    info: Ctx, input: CreateWebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """Subscribe a URL to event types (optionally one team's); returns the secret once."""
    command = c.CreateWebhookSubscription(
        url=input.url,
        event_types=list(input.event_types),
        team_id=input.team_id,
        idempotency_key=input.idempotency_key,
    )
    try:
        result = await execute(info.context, command)
    except DomainError as error:
        return _refused(error)
    return _payload(result)


async def _change(
    info: Ctx, input: WebhookSubscriptionInput, command: type[c.SubscriptionCommand]
) -> WebhookSubscriptionPayload:
    """Run a command on one subscription, as every command runs (`execute`)."""
    try:
        result = await execute(
            info.context,
            command(
                subscription_id=subscription_uuid(input.subscription_id),
                reason=input.reason,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            ),
        )
    except (DomainError, BadInputError) as error:
        return _refused(error)
    return _payload(result, input.reason)


async def pause_webhook_subscription(
    info: Ctx, input: WebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """Stop deliveries; what happens meanwhile is delivered on resume."""
    return await _change(info, input, c.PauseWebhookSubscription)


async def resume_webhook_subscription(
    info: Ctx, input: WebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """Deliver again (paused or disabled), from where deliveries stopped."""
    return await _change(info, input, c.ResumeWebhookSubscription)


async def delete_webhook_subscription(
    info: Ctx, input: WebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """Stop for good and destroy the secrets."""
    return await _change(info, input, c.DeleteWebhookSubscription)


async def rotate_webhook_secret(
    info: Ctx, input: WebhookSubscriptionInput
) -> WebhookSubscriptionPayload:
    """A new secret, shown once; the old one also signs until the grace period ends."""
    return await _change(info, input, c.RotateWebhookSecret)


async def redeliver_webhooks(info: Ctx, input: RedeliverWebhooksInput) -> RedeliverWebhooksPayload:
    """Queue a subscription's messages between two log positions again (same ids), as
    every command runs (`execute`): recorded, so idempotent and in the audit log."""
    try:
        result = await execute(
            info.context,
            c.RedeliverWebhooks(
                subscription_id=subscription_uuid(input.subscription_id),
                from_position=input.from_position,
                to_position=input.to_position,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            ),
        )
    except (DomainError, BadInputError) as error:
        return RedeliverWebhooksPayload(
            queued=0, position=None, version=None, replayed=False, user_errors=user_errors(error)
        )
    assert result.subscription is not None
    assert result.queued is not None
    return RedeliverWebhooksPayload(
        queued=result.queued,
        position=result.position,
        version=result.subscription.version,
        replayed=result.replayed,
        user_errors=[],
    )
