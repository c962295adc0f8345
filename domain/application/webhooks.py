"""The webhook subscription handlers, run by the one `execute` like every command (so
idempotency keys, expected versions, retries, metrics and error mapping are the same).

A subscription's `reason` (pause, resume, delete, disable) is an operator's note about
an integration, not personal data of a data subject: it is recorded in clear, like the
subscription's URL and event types, and stays readable when anyone is erased. Put no
personal data in it (docs/integration.md, "Reasons")."""

from __future__ import annotations

from domain.access import webhook_role
from domain.application import commands as c
from domain.application.session import CommandSession, Contended
from domain.errors import Forbidden, VersionConflict
from domain.webhooks import WebhookSubscription, rules
from domain.webhooks.policy import DELIVERY_WORKER, SubscriptionChange


def create(s: CommandSession, cmd: c.CreateWebhookSubscription) -> SubscriptionChange:
    """A new active subscription, and its secret (shown to the caller once)."""
    role = webhook_role(s.actor)
    policy = s.webhooks
    url = rules.subscription_url(cmd.url, allow_http=policy.allow_http)
    types = rules.event_types(list(cmd.event_types))
    team = rules.team(cmd.team_id)
    policy.guard(url)
    sid = WebhookSubscription.new_id()
    sub = WebhookSubscription.create(sid, url, types, team, s.meta(role))
    s.enlist(sub)
    secret = policy.secrets.issue(sid, 1)
    s.on_abort(lambda: policy.secrets.forget(sid))
    # Counted after the secret is reserved, so concurrent creations see each other.
    rules.room_for_another(policy.held_by(s.actor.id), policy.most_subscriptions)
    return SubscriptionChange(sub, secret)


def pause(s: CommandSession, cmd: c.PauseWebhookSubscription) -> SubscriptionChange:
    """Stop deliveries; events keep being queued for when it resumes."""
    sub, meta = s.subscription(cmd.subscription_id)
    sub.pause(meta)
    return SubscriptionChange(sub)


def resume(s: CommandSession, cmd: c.ResumeWebhookSubscription) -> SubscriptionChange:
    """Deliver again (paused or disabled), from where deliveries stopped."""
    sub, meta = s.subscription(cmd.subscription_id)
    sub.resume(meta)
    return SubscriptionChange(sub)


def delete(s: CommandSession, cmd: c.DeleteWebhookSubscription) -> SubscriptionChange:
    """Stop for good; the secrets are destroyed once that is recorded."""
    sub, meta = s.subscription(cmd.subscription_id)
    sub.delete(meta)
    secrets = s.webhooks.secrets
    s.after_save(lambda: secrets.forget(sub.id))
    return SubscriptionChange(sub)


def rotate(s: CommandSession, cmd: c.RotateWebhookSecret) -> SubscriptionChange:
    """A new secret (shown once); the previous one keeps signing until the grace period
    ends, so receivers can switch without losing deliveries."""
    sub, meta = s.subscription(cmd.subscription_id)
    policy = s.webhooks
    until = s.now + policy.rotation_grace
    generation = sub.rotate_secret(until, meta)
    try:
        secret = policy.secrets.issue(sub.id, generation)
    except VersionConflict:  # a concurrent rotation holds this generation
        raise Contended from None
    s.on_abort(lambda: policy.secrets.forget(sub.id, generation))
    s.after_save(lambda: policy.secrets.expire(sub.id, generation, until))
    return SubscriptionChange(sub, secret)


def redeliver(s: CommandSession, cmd: c.RedeliverWebhooks) -> SubscriptionChange:
    """Queue the subscription's messages in a range of log positions again, with their
    own ids. Recorded as an event (who asked, when: in the audit log) that the delivery
    worker acts on in log order, in the transaction that moves its position: asked once,
    queued once, even across a restart."""
    first, last = rules.redelivery_range(cmd.from_position, cmd.to_position)
    sub, meta = s.subscription(cmd.subscription_id)
    sub.request_redelivery(first, last, meta)
    return SubscriptionChange(sub, queued=s.webhooks.planned(sub.id, first, last))


def disable(s: CommandSession, cmd: c.DisableWebhookSubscription) -> SubscriptionChange:
    """The delivery worker's only command: deliveries failed for too long."""
    if s.actor is not DELIVERY_WORKER:
        raise Forbidden("Only the delivery worker disables a subscription.")
    sub, meta = s.subscription(cmd.subscription_id)
    sub.disable(meta)
    return SubscriptionChange(sub)
