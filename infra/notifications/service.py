"""Notifications wired together: the planner (events -> outbox), review reminders,
and the dispatcher (outbox -> mail). `round()` does one pass of each; whoever runs it
(the shared follower) owns waiting, leadership and backoff."""

from __future__ import annotations

import time
from copy import copy
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Engine

from domain.event_tags import TaggingMapper
from infra.keystore import KeyRing, KeyStore
from infra.notifications.adapter import LogPlanner
from infra.notifications.compose import Letterhead
from infra.notifications.consumer import NotificationConsumer
from infra.notifications.dispatcher import Backlog, DispatchConfig, Dispatcher, backlog
from infra.notifications.feed import FeedItem, feed, mark_read, unread_count
from infra.notifications.reminders import queue_reminders
from infra.notifications.transport import MailboxTransport, SmtpSettings, SmtpTransport, Transport
from infra.notifications.unsubscribe import link_key
from infra.settings import Settings

REMINDER_SECONDS = 60.0


def transport_for(settings: Settings) -> Transport:
    """SMTP when `CRAFTING_SMTP_URL` is set, else the local mailbox file."""
    if settings.smtp_url is not None:
        return SmtpTransport(SmtpSettings.from_url(settings.smtp_url.get_secret_value()))
    return MailboxTransport(mailbox_path(settings))


def mailbox_path(settings: Settings) -> Path:
    """The local mailbox: configured, or beside the SQLite file (`crafting.db.mailbox`)."""
    if settings.mailbox_path:
        return Path(settings.mailbox_path)
    if settings.is_sqlite:
        return Path(settings.database_url.removeprefix("sqlite:///") + ".mailbox")
    return Path("crafting.mailbox")


@dataclass
class Notifications:
    planner: LogPlanner
    dispatcher: Dispatcher
    consumer: NotificationConsumer
    engine: Engine
    reader: Engine
    review_days_before: int
    last_reminders: float = 0.0

    def round(self) -> int:
        """Plan new events, queue due reminders (once a minute), send what is due; the
        number of mails sent."""
        self.planner.catch_up()
        self.remind()
        return self.dispatcher.dispatch()

    def remind(self, force: bool = False) -> int:
        """Queue review reminders when it is time (or now, with `force`)."""
        now = time.time()
        if not force and now - self.last_reminders < REMINDER_SECONDS:
            return 0
        self.last_reminders = now
        return queue_reminders(
            self.engine, self.reader, self.review_days_before, self.consumer.hr_people
        )

    def feed(self, person_id: str, limit: int = 50) -> list[FeedItem]:
        """The person's latest notifications for the web app, newest first."""
        d = self.dispatcher
        d.forget_keys()
        return feed(self.reader, d.recorder, d.mapper, d.keys, d.letterhead, person_id, limit)

    def unread(self, person_id: str) -> int:
        """How many notifications the person has not seen yet."""
        return unread_count(self.reader, person_id)

    def mark_read(self, person_id: str) -> None:
        """The person saw their notifications."""
        mark_read(self.engine, person_id)

    def backlog(self) -> Backlog:
        """The messages waiting to be sent, and the age of the oldest."""
        return backlog(self.reader)


def build_notifications(
    settings: Settings,
    engine: Engine,
    reader: Engine,
    recorder: ApplicationRecorder,
    mapper: TaggingMapper,
    key_store: KeyStore,
    events_key: bytes | None,
    secret: str,
    transport: Transport | None = None,
) -> Notifications:
    """Notifications over the service's store."""
    consumer = NotificationConsumer(settings.hr_people)
    planner = LogPlanner(
        engine,
        recorder,
        mapper.keeping_sealed(),
        consumer,
        events_key,
        settings.projector_batch_size,
    )
    # Its own key ring, emptied before each batch (dispatcher): keys a batch looked up
    # are not used for the next, so an erasure stops every message after it.
    fresh = KeyRing(key_store, cache_seconds=60.0)
    opening = copy(mapper)
    opening.keys = fresh
    dispatcher = Dispatcher(
        engine,
        reader,
        recorder,
        opening,
        fresh,
        transport or transport_for(settings),
        Letterhead(settings.mail_from, settings.public_url.rstrip("/"), link_key(secret)),
        DispatchConfig(
            settings.notify_retry_min_seconds,
            max(settings.notify_retry_max_seconds, settings.notify_retry_min_seconds),
        ),
    )
    return Notifications(
        planner, dispatcher, consumer, engine, reader, settings.notify_review_days_before
    )
