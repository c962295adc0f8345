"""Notifications wired to the shared follower (infra.followers): the planner is its
consumer (events -> outbox, in the follower's transaction), and `Delivery` its
dispatcher (review reminders, then the outbox -> mail). Leadership, wake-ups, backoff
and the heartbeat are the follower's."""

from __future__ import annotations

import logging
import time
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from eventsourcing.persistence import Mapper
from sqlalchemy import Engine, func, select

from domain.event_tags import TaggingMapper
from infra.followers import EventTrust, Follower
from infra.followers.sealed import PlanningMapper, SharedDecoding
from infra.keystore import KeyRing, KeyStore
from infra.notifications.compose import Letterhead
from infra.notifications.consumer import NotificationConsumer
from infra.notifications.dispatcher import Backlog, DispatchConfig, Dispatcher, backlog
from infra.notifications.feed import FeedItem, feed, mark_read, unread_count
from infra.notifications.reminders import queue_reminders
from infra.notifications.tables import PENDING, outbox
from infra.notifications.transport import (
    MailboxTransport,
    SmtpSettings,
    SmtpTransport,
    Transport,
    WebOnlyTransport,
)
from infra.notifications.unsubscribe import link_key
from infra.settings import Settings

log = logging.getLogger(__name__)
NAME = "notifications"
REMINDER_SECONDS = 60.0


def transport_for(settings: Settings) -> Transport:
    """SMTP when `CRAFTING_SMTP_URL` is set; else a local mailbox file (configured, or
    beside the SQLite database); else (PostgreSQL) the web app's Notifications page only."""
    if settings.notifications.smtp_url is not None:
        return SmtpTransport(
            SmtpSettings.from_url(settings.notifications.smtp_url.get_secret_value())
        )
    path = mailbox_path(settings)
    if path is None:
        log.warning("no CRAFTING_SMTP_URL: notifications are shown in the web app only")
        return WebOnlyTransport()
    return MailboxTransport(path)


def mailbox_path(settings: Settings) -> Path | None:
    """The local mailbox: configured, or beside the SQLite file (`crafting.db.mailbox`);
    None on PostgreSQL (several hosts: no one file)."""
    if settings.notifications.mailbox_path:
        return Path(settings.notifications.mailbox_path)
    if settings.database.is_sqlite:
        return Path(settings.database.url.removeprefix("sqlite:///") + ".mailbox")
    return None


@dataclass
class Delivery:
    """The follower's dispatcher: reminders when it is time, then what is due."""

    dispatcher: Dispatcher
    consumer: NotificationConsumer
    engine: Engine
    reader: Engine
    review_days_before: int
    name: str = "notification-deliveries"
    last_reminders: float = field(default=0.0)

    def dispatch(self) -> float | None:
        """Queue due reminders (once a minute), send what is due; seconds until the
        next message is due (None: nothing waits)."""
        self.remind()
        self.dispatcher.dispatch()
        with self.reader.connect() as conn:
            soonest = conn.execute(
                select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status == PENDING)
            ).scalar()
        return None if soonest is None else float(soonest) - time.time()

    def remind(self, force: bool = False) -> int:
        """Queue review reminders when it is time (or now, with `force`)."""
        now = time.time()
        if not force and now - self.last_reminders < REMINDER_SECONDS:
            return 0
        self.last_reminders = now
        return queue_reminders(
            self.engine, self.reader, self.review_days_before, self.consumer.hr_people
        )


@dataclass
class Notifications:
    follower: Follower
    delivery: Delivery

    @property
    def dispatcher(self) -> Dispatcher:
        return self.delivery.dispatcher

    def round(self) -> None:
        """Plan every new event, then send what is due (as the follower's loop does)."""
        self.follower.catch_up()
        self.follower.dispatch()

    def remind(self, force: bool = False) -> int:
        """Queue the review reminders due today."""
        return self.delivery.remind(force)

    def feed(self, person_id: str, limit: int = 50) -> list[FeedItem]:
        """The person's latest notifications for the web app, newest first."""
        d = self.dispatcher
        d.forget_keys()
        return feed(
            self.delivery.reader,
            d.recorder,
            d.mapper,
            d.keys,
            d.trust,
            d.letterhead,
            person_id,
            limit,
        )

    def unread(self, person_id: str) -> int:
        """How many notifications the person has not seen yet."""
        return unread_count(self.delivery.reader, person_id)

    def mark_read(self, person_id: str) -> None:
        """The person saw their notifications."""
        mark_read(self.delivery.engine, person_id)

    def backlog(self) -> Backlog:
        """The messages waiting to be sent, and the age of the oldest."""
        return backlog(self.delivery.reader)

    @property
    def engine(self) -> Engine:
        return self.delivery.engine

    @property
    def reader(self) -> Engine:
        return self.delivery.reader


def build_notifications(
    settings: Settings,
    follower: Follower,
    mapper: TaggingMapper,
    key_store: KeyStore,
    trust: EventTrust,
    secret: str,
    transport: Transport | None = None,
    sealed: SharedDecoding | None = None,
) -> Notifications:
    """Notifications plugged into `follower` (its consumer and a dispatcher)."""
    engine, reader = follower.engine, follower.reader
    consumer = NotificationConsumer(settings.notifications.hr_people)
    # Its own key ring, emptied before each batch (Dispatcher.forget_keys): keys one
    # batch looked up are not used for the next, so an erasure stops every later mail.
    ring = KeyRing(key_store, cache_seconds=60.0)
    opening = copy(mapper)
    opening.keys = ring
    dispatcher = Dispatcher(
        engine,
        reader,
        follower.recorder,
        opening,
        ring,
        trust,
        transport or transport_for(settings),
        Letterhead(
            settings.notifications.mail_from, settings.web.public_url.rstrip("/"), link_key(secret)
        ),
        DispatchConfig(
            settings.notifications.retry_min_seconds,
            max(settings.notifications.retry_max_seconds, settings.notifications.retry_min_seconds),
        ),
        stopping=follower.stopping,
    )
    delivery = Delivery(
        dispatcher, consumer, engine, reader, settings.notifications.review_days_before
    )
    follower.consumer = consumer
    # The planner reads no personal text: sealed values stay sealed (the dispatcher
    # opens what it sends, infra.notifications.facts).
    follower.mapper = cast(Mapper[Any], PlanningMapper(mapper, (), sealed))
    follower.dispatchers.append(delivery)
    return Notifications(follower, delivery)
