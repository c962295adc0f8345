"""The inputs of the webhook mutations."""

from __future__ import annotations

import strawberry

# What every command on an existing subscription takes, said once.
EXPECTED_VERSION = (
    "The subscription's version you last saw (a payload's `version`, or the listed "
    "subscription's): VERSION_CONFLICT, and nothing recorded, if it has moved on."
)


@strawberry.input
class CreateWebhookSubscriptionInput:
    url: str = strawberry.field(description="https; private addresses are refused.")
    event_types: list[str] = strawberry.field(description='Event types, or ["*"] for all.')
    team_id: str | None = strawberry.field(default=None, description="Only this team's events.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Repeating the creation with the same key returns the first answer "
        "(its secret too, while it still signs) and creates nothing new.",
    )


@strawberry.input
class WebhookSubscriptionInput:
    subscription_id: strawberry.ID = strawberry.field(
        description="The subscription's global id, or its bare UUID."
    )
    reason: str | None = strawberry.field(
        default=None,
        description="Why (pause, resume, delete): an operator's note about the "
        "integration, stored in clear and shown in the audit log. No personal data.",
    )
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Repeating the command with the same key returns the first answer.",
    )


@strawberry.input
class RedeliverWebhooksInput:
    subscription_id: strawberry.ID
    from_position: int
    to_position: int
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Repeating the command with the same key returns the first answer "
        "(and queues nothing again).",
    )
