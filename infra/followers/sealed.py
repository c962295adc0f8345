"""How the planners' followers (webhooks, notifications) decode events: with sealed
values left as their envelopes, as the projector reads them.

The planners read ids, roles, teams, managers, flags and webhook subscriptions' fields:
never a personal text (domain.sealing: titles, reasons, names, e-mail addresses, a
record's texts). Opening every sealed value of every event (a walk of the event's
values, a key lookup and a decryption each) was 30-38% of the webhooks' and
notifications' followers' CPU under load (bench/follower_load.py --profile); what they send
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


class SharedDecoding:
    """A sealed decoder whose events the followers of one process share: the projector
    and the two planners read the same events within moments of each other, and each
    decoded every one of them (JSON, transcodings, the event's construction: ~15% of a
    planner's CPU under load). Kept by the whole stored record (stream, version, topic
    and stored bytes), so a record read back different is decoded anew; sealed events
    hold no opened text, so nothing outlives a key. No consumer changes an event."""

    def __init__(self, sealed: TaggingMapper, most: int = 2048) -> None:
        self.sealed = sealed
        self.most = most
        self._events: dict[tuple[Any, ...], DomainEventProtocol[UUID]] = {}

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        key = (
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            stored_event.state,
        )
        found = self._events.get(key)
        if found is None:
            found = self.sealed.to_domain_event(stored_event)
            if len(self._events) >= self.most:
                self._events.clear()  # the followers are close together: recent ones count
            self._events[key] = found
        return found

    def __getattr__(self, name: str) -> Any:  # the rest of the mapper's interface
        return getattr(self.sealed, name)


class PlanningMapper:
    """Decodes as `mapper` does, sealed values kept sealed except in `opened` events."""

    def __init__(
        self,
        mapper: TaggingMapper,
        opened: tuple[type, ...] = (),
        sealed: SharedDecoding | None = None,
    ) -> None:
        self.opening = mapper
        self.sealed: TaggingMapper | SharedDecoding = sealed or mapper.keeping_sealed()
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
