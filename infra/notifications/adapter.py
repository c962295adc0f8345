"""A stand-in follower, isolated here until notifications run as a consumer of the
shared follower: one call plans the next batch of the log (only events carrying the
service's tag) in one transaction with the planner's position. It has no loop of its
own — leadership, waiting and backoff belong to the shared follower."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Transcoder
from sqlalchemy import Engine, insert, select, update

from domain.event_tags import tag_valid
from domain.integrity import TAG_FIELD, event_hash, hashed_fields
from infra.notifications.consumer import NAME, NotificationConsumer
from infra.notifications.tables import notify_metadata, notify_state

log = logging.getLogger(__name__)


def ensure_tables(engine: Engine) -> None:
    """Create the notification tables and the planner's position on first use."""
    notify_metadata.create_all(engine)
    with engine.begin() as conn:
        found = conn.execute(select(notify_state).where(notify_state.c.name == NAME)).first()
        if found is None:
            conn.execute(insert(notify_state).values(name=NAME, position=0))


def carries_tag(transcoder: Transcoder, events_key: bytes | None, notification: Any) -> bool:
    """Whether a stored event carries the service's tag (always, without a key: then
    no event carries one and there is nothing to tell apart)."""
    if events_key is None:
        return True
    state = transcoder.decode(notification.state)
    digest = event_hash(
        str(notification.originator_id),
        notification.originator_version,
        notification.topic,
        hashed_fields(state),
    )
    return tag_valid(events_key, digest, state.get(TAG_FIELD))


class LogPlanner:
    """Plans the log into the outbox, a batch per call."""

    def __init__(
        self,
        engine: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        consumer: NotificationConsumer,
        events_key: bytes | None,
        batch: int = 500,
    ) -> None:
        self.engine, self.recorder, self.mapper = engine, recorder, mapper
        self.consumer, self.events_key, self.batch = consumer, events_key, batch

    def position(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(notify_state.c.position).where(notify_state.c.name == NAME)
                ).scalar_one()
            )

    def run_once(self) -> int:
        """Plan the next batch; events read (0: caught up, -1: another planner moved)."""
        start = self.position()
        notifications = self.recorder.select_notifications(start + 1, self.batch)
        if not notifications:
            return 0
        items = []
        for n in notifications:
            if carries_tag(self.mapper.transcoder, self.events_key, n):
                items.append((n.id, self.mapper.to_domain_event(n)))
            else:
                log.error(
                    "integrity alarm: event at position %s has no valid tag; not notified", n.id
                )
        with self.engine.begin() as conn:
            locked = conn.execute(
                select(notify_state.c.position).where(notify_state.c.name == NAME).with_for_update()
            ).scalar_one()
            if locked != start:
                return -1
            self.consumer.handle(conn, items)
            conn.execute(
                update(notify_state)
                .where(notify_state.c.name == NAME)
                .values(position=notifications[-1].id)
            )
        return len(notifications)

    def catch_up(self) -> int:
        total = 0
        while (planned := self.run_once()) != 0:
            total += max(planned, 0)
        return total
