"""Snapshots that must prove they were written by the service.

A snapshot is a cache of an agreement's state, and the service decides on it (a
guardrail read from a snapshot refuses or accepts an adjustment). Unlike the events, it
is in no hash chain, so whoever can write the database could edit one unnoticed. Each
snapshot's stored bytes therefore carry an HMAC-SHA256 under a key only the service
holds; a snapshot whose tag does not verify (edited, or written without the key) is
never used: the agreement is replayed from its events instead, and the discard is
reported. Without a key, no snapshot is written or trusted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Mapper,
    Recording,
    StoredEvent,
)

PREFIX = b"hmac-sha256:"
_TAG_LENGTH = 64  # hex digits
Tampered = Callable[[UUID, int], None]


def tag(key: bytes, stored: StoredEvent) -> bytes:
    """The HMAC of a stored snapshot: its stream, version, topic and state bytes."""
    head = f"{stored.originator_id}:{stored.originator_version}:{stored.topic}:".encode()
    return hmac.new(key, head + stored.state, hashlib.sha256).hexdigest().encode()


def opened(key: bytes, stored: StoredEvent) -> StoredEvent | None:
    """The stored snapshot without its tag, or None when the tag is missing or wrong."""
    state = stored.state
    if not state.startswith(PREFIX):
        return None
    given = state[len(PREFIX) : len(PREFIX) + _TAG_LENGTH]
    inner = StoredEvent(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        state[len(PREFIX) + _TAG_LENGTH + 1 :],
    )
    return inner if hmac.compare_digest(given, tag(key, inner)) else None


class TaggedSnapshotStore(EventStore[UUID]):
    """The application's snapshot store: tags what it puts, checks what it gets."""

    def __init__(
        self,
        mapper: Mapper[UUID],
        recorder: AggregateRecorder,
        key: bytes | None,
        on_tampered: Tampered,
    ) -> None:
        super().__init__(mapper, recorder)
        self.key = key
        self.on_tampered = on_tampered

    def put(
        self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any
    ) -> list[Recording[UUID]]:
        if self.key is None:
            return []
        key = self.key
        sealed = []
        for snapshot in domain_events:
            stored = self.mapper.to_stored_event(snapshot)
            state = PREFIX + tag(key, stored) + b":" + stored.state
            sealed.append(
                StoredEvent(stored.originator_id, stored.originator_version, stored.topic, state)
            )
        self.recorder.insert_events(sealed, **kwargs)
        return []

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        if self.key is None:
            return
        stored_snapshots = self.recorder.select_events(
            originator_id=originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        for stored in stored_snapshots:
            inner = opened(self.key, stored)
            if inner is None:
                self.on_tampered(originator_id, stored.originator_version)
                continue
            yield self.mapper.to_domain_event(inner)
