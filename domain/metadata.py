"""Metadata carried by every event: who did it, in which role, why, under which
request (SPEC section 2). The recorded timestamp and the version it produced come
from the library's base event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.integrity import GENESIS, event_hash, hashed_fields
from domain.sealing import PERSONAL_EVENT_FIELDS, seal_event_fields


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
    # Fields of the aggregate's PERSONAL_FIELDS that this event records in clear: texts
    # about the subject that are not theirs (HR's reason for erasing them), which must
    # stay readable after their key is destroyed (domain.sealing).
    NOT_PERSONAL: ClassVar[frozenset[str]] = frozenset()
    actor_id: str
    actor_role: str
    reason: str | None
    correlation_id: str
    idempotency_key: str | None
    previous_hash: str  # the hash of the stream's previous event (tamper evidence)

    def chain_hash(self) -> str:
        """This event's hash, which the stream's next event carries."""
        return event_hash(
            str(self.originator_id),
            self.originator_version,
            get_topic(type(self)),
            hashed_fields(vars(self)),
        )

    def mutate(self, aggregate: Any) -> Any:
        mutated = super().mutate(aggregate)
        assert mutated is not None
        # The hash is worked out only when needed (the next event, a snapshot), not for
        # each of the events replayed to load or time-travel an aggregate.
        mutated.last_event = self
        return mutated


class ChainedAggregate(Aggregate):
    """An aggregate whose events form a hash chain: each new event carries the hash of
    the one before it (see domain.integrity)."""

    last_event: RecordedEvent | None = None
    chain_head = GENESIS  # the hash of the last event, as of `last_event` None
    # The field naming whose personal data its events hold (domain.sealing); None: no
    # personal text is recorded in its events.
    SUBJECT_FIELD: ClassVar[str | None] = None
    # Which event fields hold personal text (sealed, or with no subject not recorded).
    PERSONAL_FIELDS: ClassVar[frozenset[str]] = PERSONAL_EVENT_FIELDS

    def resolve_chain_head(self) -> str:
        """The hash the next event must carry."""
        if self.last_event is not None:
            self.chain_head = self.last_event.chain_hash()
            self.last_event = None
        return self.chain_head

    def __eq__(self, other: object) -> bool:
        # Compare states, not how far each got with working out its chain head.
        if not isinstance(other, ChainedAggregate) or type(self) is not type(other):
            return False
        self.resolve_chain_head()
        other.resolve_chain_head()
        mine, theirs = (
            {k: v for k, v in a.__dict__.items() if k != "last_event"} for a in (self, other)
        )
        return mine == theirs

    __hash__ = Aggregate.__hash__

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:
        subject = None if cls.SUBJECT_FIELD is None else kwargs[cls.SUBJECT_FIELD]
        personal = cls.PERSONAL_FIELDS - event_class.NOT_PERSONAL
        fields = seal_event_fields(kwargs, subject, personal)
        return super()._create(event_class, id=id, previous_hash=GENESIS, **fields)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        subject = None if self.SUBJECT_FIELD is None else getattr(self, self.SUBJECT_FIELD)
        personal = self.PERSONAL_FIELDS - event_class.NOT_PERSONAL
        fields = seal_event_fields(kwargs, subject, personal)
        super().trigger_event(event_class, previous_hash=self.resolve_chain_head(), **fields)
