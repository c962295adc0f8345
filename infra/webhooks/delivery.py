"""Webhook delivery as a dispatcher of the follower `webhooks` (its consumer is the
planner, infra.webhooks.planner): each call queues due `review.due` reminders when it
is time, then drains the due subscriptions' queues, several subscriptions at once, and
says when the next attempt is due."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Engine, func, select

from domain.application.subscriptions import WebhookSubscriptions
from domain.webhooks import SubscriptionStatus
from infra.followers.trust import EventTrust
from infra.webhooks.planner import queue_reminders
from infra.webhooks.sender import DeliveryConfig, Sender
from infra.webhooks.tables import PENDING, outbox, subscriptions


class Deliveries:
    """Sends what is due; see the module's docstring."""

    name = "webhook-deliveries"

    def __init__(
        self,
        engine: Engine,
        reader: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        service: WebhookSubscriptions,
        config: DeliveryConfig,
        trust: EventTrust,
        stopping: threading.Event,
    ) -> None:
        self.engine = engine
        self.reader = reader
        self.config = config
        self.sender = Sender(
            engine, recorder, mapper, service, config, trust, reader=reader, stopping=stopping
        )
        self._pool: ThreadPoolExecutor | None = None
        self._last_reminders = 0.0

    def dispatch(self) -> float | None:
        """Queue reminders when it is time, send what is due; seconds to the next
        attempt (None: nothing pending)."""
        now = time.time()
        if now - self._last_reminders >= self.config.reminder_seconds:
            queue_reminders(self.engine, self.reader)
            self._last_reminders = now
        due = self._due_subscriptions(now)
        if len(due) < 2:
            for sub in due:
                self.sender.drain(sub)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.config.concurrency, thread_name_prefix="webhook"
                )
            list(self._pool.map(self.sender.drain, due))
        return self._seconds_to_next_attempt()

    def _due_subscriptions(self, now: float) -> list[dict[str, Any]]:
        # Reads go to the reader engine: on SQLite the writer takes the write lock.
        with self.reader.connect() as conn:
            due = select(outbox.c.subscription_id).where(
                outbox.c.status == PENDING, outbox.c.next_attempt_at <= now
            )
            rows = conn.execute(
                select(subscriptions).where(
                    subscriptions.c.status == SubscriptionStatus.ACTIVE,
                    subscriptions.c.subscription_id.in_(due.distinct()),
                )
            ).mappings()
            return [dict(row) for row in rows]

    def _seconds_to_next_attempt(self) -> float | None:
        with self.reader.connect() as conn:
            soonest = conn.execute(
                select(func.min(outbox.c.next_attempt_at)).where(
                    outbox.c.status == PENDING,
                    outbox.c.subscription_id.in_(
                        select(subscriptions.c.subscription_id).where(
                            subscriptions.c.status == SubscriptionStatus.ACTIVE
                        )
                    ),
                )
            ).scalar()
        return None if soonest is None else float(soonest) - time.time()
