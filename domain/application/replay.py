"""Replaying an aggregate's events without the library's per-event protocol check.

The library's projector asserts `isinstance(event, CanMutateProtocol)` for every event
it replays. On Python 3.11 an isinstance against a runtime-checkable protocol walks the
protocol's attributes in Python: about 20 µs of CPU an event, as much as applying the
event (bench.replay_cost: a full replay 41 µs an event with it, 20 without). A
time-travel lookup on a long agreement replays up to 1,600 events after its snapshot,
and each snapshot taken replays too. Our events are the library's own event classes
(they mutate), so the check tells nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from copy import deepcopy
from itertools import groupby
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.domain import DomainEventProtocol

A = TypeVar("A")


def replay(aggregate: A | None, events: Iterable[DomainEventProtocol[Any]]) -> A | None:
    """Apply `events` in turn to `aggregate` (None before its first event)."""
    for event in events:
        aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
    return aggregate


class ReplayingRepository(Repository[UUID]):
    """The library's repository, replaying with `replay` unless told otherwise."""

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = replay,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        return super().get(
            aggregate_id,
            version=version,
            projector_func=projector_func,
            fastforward_skipping=fastforward_skipping,
            deepcopy_from_cache=deepcopy_from_cache,
        )

    def get_together(self, aggregate_ids: Sequence[UUID]) -> list[Any] | None:
        """Copies of the cached aggregates, each fast-forwarded as `get` does, with one
        read of the store for all of them instead of one each (a round trip and a
        statement's CPU saved per aggregate). None, and nothing read, unless all are
        cached and the store reads that way (`select_events_past`): then `get` each."""
        select = getattr(self.event_store.recorder, "select_events_past", None)
        if self.cache is None or not self.fastforward or select is None:
            return None
        try:
            cached = {i: self.cache.get(i) for i in aggregate_ids}
        except KeyError:
            return None
        # The fast-forward locks `get` takes, taken in one order (no two threads can
        # each hold one the other waits for); each cached aggregate is brought forward
        # in place under its lock, as `get` does.
        ids = sorted(set(aggregate_ids))
        locks = [self._use_fastforward_lock(i) for i in ids]
        try:
            for lock in locks:
                lock.acquire()
            try:
                stored = select([(i, cached[i].version) for i in ids])
                to_event = self.event_store.mapper.to_domain_event
                for aggregate_id, events in groupby(stored, key=lambda s: s.originator_id):
                    replay(cached[aggregate_id], map(to_event, events))
                copies = {i: deepcopy(a) for i, a in cached.items()}
            finally:
                for lock in locks:
                    lock.release()
        finally:
            for i in ids:
                self._disuse_fastforward_lock(i)
        return [copies[i] for i in aggregate_ids]
