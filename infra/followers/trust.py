"""Which events a follower may act on: those the service wrote.

The rule the checkpoint sealer applies (domain.event_tags): an event after the last
signed checkpoint must carry the service's tag; events a checkpoint covers are vouched
for by its signed root (and may predate tags). Whoever can write the database but does
not hold the key can append an event with a correct `previous_hash`; without the tag it
is never projected, delivered, notified or acted on — an alarm is raised instead."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine, func, select

from domain.event_tags import tag_valid
from infra.alarms import raise_alarm
from infra.audit import INTEGRITY_ALARMS, UNTAGGED_EVENT, Store, checkpoints
from infra.audit.store import record_hash

log = logging.getLogger(__name__)


class EventTrust:
    """Splits fetched events into those written by the service and the others."""

    def __init__(self, store: Store, events_key: bytes | None, reader: Engine) -> None:
        self.store = store
        self.events_key = events_key  # None: no signing key, so no tags to check
        self.reader = reader  # never the writer: callers may hold SQLite's write lock
        self._checkpointed = 0

    def untrusted(self, batch: Sequence[Notification]) -> list[Notification]:
        """The events of `batch` that do not carry the service's tag."""
        if self.events_key is None or not batch or batch[-1].id <= self._checkpointed:
            return []
        self._checkpointed = self._checkpointed_position()
        found = []
        for n in batch:
            if n.id <= self._checkpointed:
                continue
            record = self.store.record(n)
            if not tag_valid(self.events_key, record_hash(record), record.tag):
                found.append(n)
        return found

    def _checkpointed_position(self) -> int:
        with self.reader.connect() as conn:
            value = conn.execute(select(func.max(checkpoints.c.position))).scalar()
        return int(value or 0)


def alarm_untagged(conn: Connection, follower: str, n: Notification) -> None:
    """Raise (once) the alarm for an event written around the service."""
    detail = (
        f"The event at position {n.id} (stream {n.originator_id}, version "
        f"{n.originator_version}, {n.topic.rsplit('.', 1)[-1]}) does not carry the "
        "service's tag: it was written around the service. No follower acts on it "
        "(not checkpointed, projected, delivered, notified). Run `crafting verify`."
    )
    if raise_alarm(conn, UNTAGGED_EVENT, f"position {n.id}", detail):
        INTEGRITY_ALARMS.labels("event").inc()
    log.error(
        "integrity alarm: the event at position %s does not carry the service's tag; "
        "%s does not act on it (run `crafting verify`)",
        n.id,
        follower,
    )
