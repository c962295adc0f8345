"""Metadata carried by every event: who did it, in which role, why, under which
request (SPEC section 2). The recorded timestamp and the version it produced come
from the library's base event."""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.domain import Aggregate


@dataclass(frozen=True)
class Meta:
    actor_id: str
    actor_role: str
    correlation_id: str
    reason: str | None = None
    idempotency_key: str | None = None

    def event_fields(self) -> dict[str, str | None]:
        return {
            "actor_id": self.actor_id,
            "actor_role": self.actor_role,
            "reason": self.reason,
            "correlation_id": self.correlation_id,
            "idempotency_key": self.idempotency_key,
        }


class RecordedEvent(Aggregate.Event):
    """Base of every event of ours. Each class starts at `class_version = 1`; a
    changed shape bumps it and adds `upcast_vN_vN1`, so stored events are read
    without being rewritten."""

    class_version = 1
    actor_id: str
    actor_role: str
    reason: str | None
    correlation_id: str
    idempotency_key: str | None
