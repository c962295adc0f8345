"""A webhook subscription as an aggregate: created, paused and resumed, its secret
rotated, disabled by the delivery worker, deleted — each an event like any other.

The signing secret is never part of an event (events are immutable, hashed, exported
and shown in the audit log and the change feed): an event says only which generation
of the secret is current; the secrets live in their own table (infra.webhooks.secrets).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.agreement.topics import keep_stored_topics
from domain.errors import InvalidTransition
from domain.metadata import ChainedAggregate, Meta, RecordedEvent


class SubscriptionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"  # by the delivery worker, after failing for too long
    DELETED = "DELETED"


class WebhookSubscription(ChainedAggregate):
    """Deliveries go to `url` for the `event_types` asked for (`*`: all), optionally
    only those of one team; payloads show what `role` may read."""

    # Its reasons (paused, resumed, deleted, disabled) are an operator's notes about an
    # integration, not a data subject's personal data: recorded in clear, readable after
    # any erasure, shown in the audit log (docs/integration.md, "Reasons").
    PERSONAL_FIELDS: ClassVar[frozenset[str]] = frozenset()

    class Created(RecordedEvent, Aggregate.Created):
        url: str
        event_types: list[str]
        team_id: str | None
        owner_id: str
        role: str
        secret_generation: int

    class Paused(RecordedEvent):
        def apply(self, sub: WebhookSubscription) -> None:
            sub.status = SubscriptionStatus.PAUSED

    class Resumed(RecordedEvent):
        def apply(self, sub: WebhookSubscription) -> None:
            sub.status = SubscriptionStatus.ACTIVE

    class Disabled(RecordedEvent):
        def apply(self, sub: WebhookSubscription) -> None:
            sub.status = SubscriptionStatus.DISABLED

    class Deleted(RecordedEvent):
        def apply(self, sub: WebhookSubscription) -> None:
            sub.status = SubscriptionStatus.DELETED

    class SecretRotated(RecordedEvent):
        secret_generation: int
        previous_valid_until: datetime  # the old secret still signs until then

        def apply(self, sub: WebhookSubscription) -> None:
            sub.secret_generation = self.secret_generation

    class RedeliveryRequested(RecordedEvent):
        """Its messages between two log positions are to be sent again (same ids): the
        delivery worker queues them when it reaches this event, so in log order."""

        from_position: int
        to_position: int

        def apply(self, sub: WebhookSubscription) -> None:
            sub.last_redelivery = (self.from_position, self.to_position)

    def __init__(
        self,
        url: str,
        event_types: list[str],
        team_id: str | None,
        owner_id: str,
        role: str,
        secret_generation: int,
    ) -> None:
        self.url = url
        self.event_types = event_types
        self.team_id = team_id
        self.owner_id = owner_id
        self.role = role
        self.secret_generation = secret_generation
        self.status = SubscriptionStatus.ACTIVE
        self.last_redelivery: tuple[int, int] | None = None  # a replay answers with it

    @staticmethod
    def new_id() -> UUID:
        return uuid4()

    @classmethod
    def create(
        cls,
        subscription_id: UUID,
        url: str,
        event_types: list[str],
        team_id: str | None,
        meta: Meta,
    ) -> WebhookSubscription:
        created: WebhookSubscription = cls._create(
            cls.Created,
            id=subscription_id,
            url=url,
            event_types=event_types,
            team_id=team_id,
            owner_id=meta.actor_id,
            role=meta.actor_role,
            secret_generation=1,
            **meta.event_fields(),
        )
        return created

    def pause(self, meta: Meta) -> None:
        self._require(SubscriptionStatus.ACTIVE, "pause")
        self.trigger_event(self.Paused, **meta.event_fields())

    def resume(self, meta: Meta) -> None:
        """Paused or disabled: deliveries start again where they stopped."""
        self._require({SubscriptionStatus.PAUSED, SubscriptionStatus.DISABLED}, "resume")
        self.trigger_event(self.Resumed, **meta.event_fields())

    def disable(self, meta: Meta) -> None:
        self._require(SubscriptionStatus.ACTIVE, "disable")
        self.trigger_event(self.Disabled, **meta.event_fields())

    def delete(self, meta: Meta) -> None:
        self._not_deleted()
        self.trigger_event(self.Deleted, **meta.event_fields())

    def rotate_secret(self, previous_valid_until: datetime, meta: Meta) -> int:
        """Move to the next secret generation; the number of the new one."""
        self._not_deleted()
        generation = self.secret_generation + 1
        self.trigger_event(
            self.SecretRotated,
            secret_generation=generation,
            previous_valid_until=previous_valid_until,
            **meta.event_fields(),
        )
        return generation

    def request_redelivery(self, from_position: int, to_position: int, meta: Meta) -> None:
        """Deliver that range again: paused or disabled too (sent once it resumes)."""
        self._not_deleted()
        self.trigger_event(
            self.RedeliveryRequested,
            from_position=from_position,
            to_position=to_position,
            **meta.event_fields(),
        )

    def _require(self, allowed: SubscriptionStatus | set[SubscriptionStatus], action: str) -> None:
        wanted = {allowed} if isinstance(allowed, SubscriptionStatus) else allowed
        if self.status not in wanted:
            raise InvalidTransition(
                f"Cannot {action} a subscription that is {self.status.value}.", "subscriptionId"
            )

    def _not_deleted(self) -> None:
        if self.status is SubscriptionStatus.DELETED:
            raise InvalidTransition("This subscription was deleted.", "subscriptionId")


keep_stored_topics("domain.webhooks", WebhookSubscription)
