"""The inputs of the webhook mutations."""

from __future__ import annotations

import strawberry


@strawberry.input
class CreateWebhookSubscriptionInput:
    url: str = strawberry.field(description="https; private addresses are refused.")
    event_types: list[str] = strawberry.field(description='Event types, or ["*"] for all.')
    team_id: str | None = strawberry.field(default=None, description="Only this team's events.")


@strawberry.input
class WebhookSubscriptionInput:
    subscription_id: strawberry.ID
    reason: str | None = None


@strawberry.input
class RedeliverWebhooksInput:
    subscription_id: strawberry.ID
    from_position: int
    to_position: int
