"""Webhook subscriptions in GraphQL: subscribing, the delivery log and redelivery."""
