"""Webhook subscriptions: who wants which events pushed to which URL."""

from domain.webhooks.subscription import SubscriptionStatus, WebhookSubscription

__all__ = ["SubscriptionStatus", "WebhookSubscription"]
