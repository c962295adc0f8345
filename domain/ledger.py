"""Hours a person receives and gives away through reallocations, across agreements.

Every reallocation that switches on or off also records an event here, saved in the
same atomic write as the agreement's: two concurrent reallocations to one receiver
then conflict on this ledger's version, so the receiving limit (rule 4) holds under
concurrency without any read-model check.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.metadata import ChainedAggregate, Meta, RecordedEvent

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:crafting:hours-ledger")


class LedgerOutOfStep(Exception):
    """The ledger was loaded after a concurrent command changed it, the agreement
    before: the command must be judged again on fresh state (never an internal error)."""


class Side(StrEnum):
    RECEIVED = "RECEIVED"
    GIVEN = "GIVEN"


class HoursLedger(ChainedAggregate):
    class Opened(RecordedEvent, Aggregate.Created):
        person_id: str

    class Booked(RecordedEvent):
        reallocation_id: str
        agreement_id: str
        side: str
        hours_per_week: float

        def apply(self, ledger: HoursLedger) -> None:
            ledger.entries[self.reallocation_id] = (Side(self.side), self.hours_per_week)

    class Released(RecordedEvent):
        reallocation_id: str
        agreement_id: str

        def apply(self, ledger: HoursLedger) -> None:
            del ledger.entries[self.reallocation_id]

    def __init__(self, person_id: str) -> None:
        self.person_id = person_id
        self.entries: dict[str, tuple[Side, float]] = {}

    def __deepcopy__(self, memo: dict[int, object]) -> HoursLedger:
        """The library copies the cached ledger for each command that books hours. Its
        entries are immutable pairs and its other state immutable values (ids, texts,
        times, the frozen last event), so copying the containers is enough: Python's
        walk of the last event's fields made a reallocation's two ledgers ~0.25 ms each."""
        copy = object.__new__(type(self))
        memo[id(self)] = copy
        copy.__dict__.update(
            (k, v.copy() if isinstance(v, dict | list) else v) for k, v in self.__dict__.items()
        )
        return copy

    @staticmethod
    def id_for(person_id: str) -> UUID:
        return uuid5(_NAMESPACE, person_id)

    @classmethod
    def open(cls, person_id: str, meta: Meta) -> HoursLedger:
        created: HoursLedger = cls._create(
            cls.Opened, id=cls.id_for(person_id), person_id=person_id, **meta.event_fields()
        )
        return created

    @property
    def net_received(self) -> float:
        return sum(h if side is Side.RECEIVED else -h for side, h in self.entries.values())

    def book(
        self, reallocation_id: str, agreement_id: UUID, side: Side, hours: float, meta: Meta
    ) -> None:
        if reallocation_id in self.entries:
            raise LedgerOutOfStep(reallocation_id)
        self.trigger_event(
            self.Booked,
            reallocation_id=reallocation_id,
            agreement_id=str(agreement_id),
            side=side.value,
            hours_per_week=hours,
            **meta.event_fields(),
        )

    def release(self, reallocation_id: str, agreement_id: UUID, meta: Meta) -> None:
        if reallocation_id not in self.entries:
            raise LedgerOutOfStep(reallocation_id)
        self.trigger_event(
            self.Released,
            reallocation_id=reallocation_id,
            agreement_id=str(agreement_id),
            **meta.event_fields(),
        )


def overloads(net_before: float, net_after: float, limit: float) -> bool:
    """Team fairness (rule 4): whether a change leaves a person receiving more, net,
    than `limit` hours per week. Only a rise counts: a change that leaves someone
    already past the limit (the limit was lowered) no worse is allowed."""
    return net_after > limit and net_after > net_before


def limit_reached(net_received: float, limit: float) -> bool:
    """Whether a person can take on no more reallocated work."""
    return net_received >= limit
