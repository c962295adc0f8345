"""What the delivery worker and the webhook queries use of subscriptions: the secrets,
`find` (with the access check) and `disable`, a command through the one `execute`."""

from __future__ import annotations

from uuid import UUID

from domain.access import MANAGE_WEBHOOKS, Actor, can_manage_subscription, webhook_role
from domain.application import commands as c
from domain.application.commands import Request
from domain.application.service import CraftingApplication
from domain.errors import DomainError, Forbidden
from domain.webhooks import WebhookSubscription
from domain.webhooks.policy import DELIVERY_WORKER, SecretStore


class WebhookSubscriptions:
    """What the delivery worker and the queries use: the secrets, `find` (with the
    access check), and `disable` (a command through the application)."""

    def __init__(self, app: CraftingApplication, secrets: SecretStore) -> None:
        self.app = app
        self.secrets = secrets

    def find(self, actor: Actor, subscription_id: UUID) -> WebhookSubscription:
        """A subscription the caller may manage; FORBIDDEN otherwise, found or not."""
        webhook_role(actor)
        sub = self.app.load_subscription(subscription_id)
        if sub is None or not can_manage_subscription(actor, sub.owner_id):
            raise Forbidden(MANAGE_WEBHOOKS + " An integration manages its own only.")
        return sub

    def disable(self, subscription_id: UUID, why: str) -> bool:
        """Record that deliveries failed for too long. False when it is no longer
        active (paused, deleted or disabled meanwhile)."""
        request = Request(DELIVERY_WORKER, f"webhook-{subscription_id}")
        command = c.DisableWebhookSubscription(subscription_id=subscription_id, reason=why[:2000])
        try:
            self.app.execute(request, command)
        except DomainError:
            return False
        return True
