"""How the planners' followers (webhooks, notifications) decode events: with sealed
values left as their envelopes, as the projector reads them.

The planners read ids, roles, teams, managers, flags and webhook subscriptions' fields:
never a personal text (domain.sealing: titles, reasons, names, e-mail addresses, a
record's texts). Opening every sealed value of every event (a walk of the event's
values, a key lookup and a decryption each) was a quarter to a third of the webhooks'
and notifications' followers' CPU under load (bench/follower_load.py); what they send
is built later, at sending time, by decoders that open (infra.webhooks.sender,
infra.notifications.facts). Events of the classes in `opened` are still decoded
opened: webhook subscriptions' reasons are recorded in clear today, but a log written
before that may hold them sealed, and the planner copies them into its table."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from domain.event_tags import TaggingMapper


class PlanningMapper:
    """Decodes as `mapper` does, sealed values kept sealed except in `opened` events."""

    def __init__(self, mapper: TaggingMapper, opened: tuple[type, ...] = ()) -> None:
        self.opening = mapper
        self.sealed = mapper.keeping_sealed()
        self.opened = opened
        self._opens: dict[str, bool] = {}  # topic -> decoded opened

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        topic = stored_event.topic
        opens = self._opens.get(topic)
        if opens is None:
            opens = self._opens[topic] = _is_a(resolve_topic(topic), self.opened)
        return (self.opening if opens else self.sealed).to_domain_event(stored_event)

    def __getattr__(self, name: str) -> Any:  # the rest of the mapper's interface
        return getattr(self.sealed, name)


def _is_a(cls: Any, classes: tuple[type, ...]) -> bool:
    return isinstance(cls, type) and issubclass(cls, classes)
