"""What the webhook commands need from outside the domain: where signing secrets live
(`SecretStore`), which URLs deliveries may go to (`UrlGuard`), and the settings that
bound both (`WebhookPolicy`); what a subscription command returns (`SubscriptionChange`).
The commands themselves are handlers like every other
(domain/application/webhooks.py).

Secrets are issued by the `SecretStore` (infra) before the event that names their
generation is saved: a failed save removes the unused secret again; never an event
naming a secret that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from domain.access import Actor
from domain.webhooks import rules
from domain.webhooks.subscription import WebhookSubscription

SYSTEM_ACTOR = "webhook-delivery"  # who disables a subscription that keeps failing
SYSTEM_ROLE = "SYSTEM"
DELIVERY_WORKER = Actor(SYSTEM_ACTOR, frozenset())
"""The delivery worker as an actor. Recognised by identity (`is`), never by its id: a
token can carry any `sub`, but only code holding this object acts as the worker."""


class SecretStore(Protocol):
    """Where secrets live (never in an event)."""

    def issue(self, subscription_id: UUID, generation: int) -> str:
        """Create, keep and return the secret of a generation; VersionConflict when
        that generation exists already (a concurrent rotation)."""
        ...

    def reveal(self, subscription_id: UUID, generation: int) -> str | None:
        """The secret of a generation while it still signs (a replayed command shows
        what the first call showed); None once it expired or was removed."""
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


Planned = Callable[[UUID, int, int], int]
"""How many messages the delivery worker has queued for a subscription between two log
positions, both included (infra)."""


def _none_held(_owner: str) -> int:
    return 0


def _none_planned(_subscription: UUID, _first: int, _last: int) -> int:
    return 0


@dataclass(frozen=True)
class WebhookPolicy:
    """The secrets, the URL guard and the settings the subscription commands use."""

    secrets: SecretStore
    guard: UrlGuard
    allow_http: bool  # development only: http receivers
    rotation_grace: timedelta  # how long a rotated-out secret keeps signing
    held_by: HeldBy = _none_held
    most_subscriptions: int = rules.MOST_SUBSCRIPTIONS  # per owner: each is sent every event
    planned: Planned = _none_planned


@dataclass(frozen=True)
class SubscriptionChange:
    """What a subscription command returns: the subscription as it left it, and the
    new signing secret when it issued one (creation, rotation)."""

    subscription: WebhookSubscription
    secret: str | None = None
    queued: int | None = None  # a redelivery: the messages it queues again
