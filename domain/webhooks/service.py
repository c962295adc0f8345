"""Webhook subscription commands: access, validation, the aggregate, its secret.

Secrets are issued by a `SecretStore` (infra) before the event that names their
generation is saved: a failed save leaves at most an unused secret row, which `create`
removes; never an event naming a secret that does not exist."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from domain.access import MANAGE_WEBHOOKS, Actor, can_manage_subscription, webhook_role
from domain.application.commands import Request
from domain.application.service import CraftingApplication
from domain.errors import Forbidden, NotFound, VersionConflict
from domain.metadata import Meta
from domain.values import optional_text
from domain.webhooks import rules
from domain.webhooks.subscription import SubscriptionStatus, WebhookSubscription

SYSTEM_ACTOR = "webhook-delivery"
SYSTEM_ROLE = "SYSTEM"
ATTEMPTS = 8


class SecretStore(Protocol):
    """Where signing secrets live (never in an event)."""

    def issue(self, subscription_id: UUID, generation: int) -> str:
        """Create, keep and return the secret of a generation; VersionConflict when
        that generation exists already (a concurrent rotation)."""
        ...

    def expire(self, subscription_id: UUID, before_generation: int, at: datetime) -> None:
        """Older generations stop signing at `at`."""
        ...

    def forget(self, subscription_id: UUID, generation: int | None = None) -> None:
        """Remove one generation's secret, or all of them."""
        ...

    def signing_keys(self, subscription_id: str, now: float) -> list[bytes]:
        """The keys that sign now, newest first (old ones during their grace)."""
        ...


UrlGuard = Callable[[str], None]
"""Refuses (InvalidInput) a URL that points where deliveries must not go (infra)."""
HeldBy = Callable[[str], int]
"""How many live subscriptions an owner holds, counting any whose secret is issued but
which are not yet known to belong to someone else (infra)."""


@dataclass(frozen=True)
class Outcome:
    subscription: WebhookSubscription
    position: int
    secret: str | None = None  # only at creation and rotation


class WebhookSubscriptions:
    """Create, pause, resume, rotate, delete; `disable` for the delivery worker."""

    def __init__(
        self,
        app: CraftingApplication,
        secrets: SecretStore,
        guard: UrlGuard,
        *,
        allow_http: bool,
        rotation_grace: timedelta,
        held_by: HeldBy = lambda owner: 0,
        most_subscriptions: int = rules.MOST_SUBSCRIPTIONS,
    ) -> None:
        self.app = app
        self.secrets = secrets
        self.guard = guard
        self.allow_http = allow_http
        self.rotation_grace = rotation_grace
        self.held_by = held_by
        self.most_subscriptions = most_subscriptions

    def create(
        self, request: Request, url: str, event_types: list[str], team_id: str | None
    ) -> Outcome:
        """A new active subscription, and its secret (shown this once)."""
        role = webhook_role(request.actor)
        checked = rules.subscription_url(url, allow_http=self.allow_http)
        types = rules.event_types(event_types)
        team = rules.team(team_id)
        self.guard(checked)
        sid = WebhookSubscription.new_id()
        meta = _meta(request, role)
        sub = WebhookSubscription.create(sid, checked, types, team, meta)
        secret = self.secrets.issue(sid, 1)
        try:
            rules.room_for_another(self.held_by(request.actor.id), self.most_subscriptions)
            position = self._save(sub)
        except BaseException:
            self.secrets.forget(sid)
            raise
        return Outcome(sub, position, secret)

    def pause(self, request: Request, subscription_id: UUID, reason: str | None = None) -> Outcome:
        """Stop deliveries; events keep being queued for when it resumes."""
        return self._change(request, subscription_id, reason, WebhookSubscription.pause)

    def resume(self, request: Request, subscription_id: UUID, reason: str | None = None) -> Outcome:
        """Deliver again, from where deliveries stopped."""
        return self._change(request, subscription_id, reason, WebhookSubscription.resume)

    def delete(self, request: Request, subscription_id: UUID, reason: str | None = None) -> Outcome:
        """Stop for good; the secrets are destroyed."""
        outcome = self._change(request, subscription_id, reason, WebhookSubscription.delete)
        self.secrets.forget(subscription_id)
        return outcome

    def rotate(self, request: Request, subscription_id: UUID) -> Outcome:
        """A new secret (shown this once); the previous one keeps signing too until the
        grace period ends, so receivers can switch without losing deliveries."""
        for attempt in range(ATTEMPTS):
            sub, meta = self._load(request, subscription_id, None)
            now = self.app.clock()
            generation = sub.secret_generation + 1
            try:
                secret = self.secrets.issue(subscription_id, generation)
            except VersionConflict:
                _pause(attempt)
                continue
            try:
                sub.rotate_secret(now + self.rotation_grace, meta)
                position = self._save(sub)
            except RecordConflictError:
                self.secrets.forget(subscription_id, generation)
                _pause(attempt)
                continue
            except BaseException:
                self.secrets.forget(subscription_id, generation)
                raise
            self.secrets.expire(subscription_id, generation, now + self.rotation_grace)
            return Outcome(sub, position, secret)
        raise VersionConflict("The subscription kept changing; please retry.")

    def disable(self, subscription_id: UUID, why: str) -> bool:
        """Called by the delivery worker: record that deliveries failed for too long.
        False when it is no longer active (paused, deleted or disabled meanwhile)."""
        for attempt in range(ATTEMPTS):
            sub = self._get(subscription_id)
            if sub is None or sub.status is not SubscriptionStatus.ACTIVE:
                return False
            sub.disable(Meta(SYSTEM_ACTOR, SYSTEM_ROLE, f"webhook-{subscription_id}", why[:2000]))
            try:
                self._save(sub)
            except RecordConflictError:
                _pause(attempt)
                continue
            return True
        return False

    def find(self, actor: Actor, subscription_id: UUID) -> WebhookSubscription:
        """A subscription the caller may manage; FORBIDDEN otherwise, found or not."""
        webhook_role(actor)
        sub = self._get(subscription_id)
        if sub is None or not can_manage_subscription(actor, sub.owner_id):
            raise Forbidden(MANAGE_WEBHOOKS + " An integration manages its own only.")
        return sub

    def _change(
        self,
        request: Request,
        subscription_id: UUID,
        reason: str | None,
        step: Callable[[WebhookSubscription, Meta], None],
    ) -> Outcome:
        for attempt in range(ATTEMPTS):
            sub, meta = self._load(request, subscription_id, reason)
            step(sub, meta)
            try:
                return Outcome(sub, self._save(sub))
            except RecordConflictError:
                _pause(attempt)
        raise VersionConflict("The subscription kept changing; please retry.")

    def _load(
        self, request: Request, subscription_id: UUID, reason: str | None
    ) -> tuple[WebhookSubscription, Meta]:
        role = webhook_role(request.actor)
        sub = self.find(request.actor, subscription_id)
        return sub, _meta(request, role, reason)

    def _get(self, subscription_id: UUID) -> WebhookSubscription | None:
        try:
            found: Any = self.app.repository.get(subscription_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, WebhookSubscription) else None

    def _save(self, sub: WebhookSubscription) -> int:
        recordings = self.app.save(sub)
        if not recordings:
            raise NotFound("Nothing was recorded.", "subscriptionId")
        return recordings[-1].notification.id


def _meta(request: Request, role: object, reason: str | None = None) -> Meta:
    return Meta(
        actor_id=request.actor.id,
        actor_role=str(role),
        correlation_id=request.correlation_id,
        reason=optional_text(reason, "reason", max_length=2000),
    )


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # noqa: S311 - jitter, not crypto
