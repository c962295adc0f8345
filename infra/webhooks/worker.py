"""The delivery worker, built like the projector (projections.runner): on PostgreSQL
one worker leads (advisory lock) and wakes on the log's NOTIFY; every wait is bounded;
lost connections and failing rounds are logged and retried after a growing pause; only
`stop()` ends it. Each round plans new events (planner), queues due reminders, then
drains the subscriptions' queues, several subscriptions at once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.postgres import PostgresApplicationRecorder
from sqlalchemy import Engine, func, insert, select

from domain.application.subscriptions import WebhookSubscriptions
from domain.webhooks import SubscriptionStatus
from infra.webhooks.planner import NAME, Planner, queue_reminders
from infra.webhooks.sender import DeliveryConfig, Sender
from infra.webhooks.tables import PENDING, outbox, planner_state, subscriptions, webhook_metadata
from projections import heartbeat
from projections.runner import CONNECT_TIMEOUT_SECONDS, RETRY_MAX_SECONDS, RETRY_MIN_SECONDS

log = logging.getLogger(__name__)
WORKER_NAME = "webhooks"  # its heartbeat row
HEARTBEAT_SECONDS = 1.0
MIN_WAIT_SECONDS = 0.02


def ensure_tables(engine: Engine) -> None:
    """Create the worker's tables and its position on first use."""
    webhook_metadata.create_all(engine)
    with engine.begin() as conn:
        found = conn.execute(select(planner_state).where(planner_state.c.name == NAME)).first()
        if found is None:
            conn.execute(insert(planner_state).values(name=NAME, position=0))


class WebhookWorker:
    def __init__(
        self,
        engine: Engine,
        reader: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        service: WebhookSubscriptions,
        config: DeliveryConfig,
        *,
        postgres_dsn: str | None = None,
        batch_size: int = 500,
    ) -> None:
        self.engine = engine
        self.reader = reader
        self.recorder = recorder
        self.config = config
        self.postgres_dsn = postgres_dsn
        self.stopping = threading.Event()
        self.planner = Planner(engine, recorder, mapper, batch_size, reader=reader)
        self.sender = Sender(
            engine, recorder, mapper, service, config, reader=reader, stopping=self.stopping
        )
        self._wake = threading.Event()
        self._last_beat = 0.0
        self._last_reminders = 0.0
        self._caught_up_at = time.time()

    def wake(self, _position: int = 0) -> None:
        """Called after a save in this process: plan and send now."""
        self._wake.set()

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    def run_once(self, pool: ThreadPoolExecutor | None = None) -> int:
        """One round: plan, queue reminders when it is time, send what is due; the
        number of messages delivered."""
        self.planner.catch_up()
        now = time.time()
        if now - self._last_reminders >= self.config.reminder_seconds:
            queue_reminders(self.engine, self.reader)
            self._last_reminders = now
        due = self._due_subscriptions(now)
        if pool is None or len(due) < 2:
            return sum(self.sender.drain(sub) for sub in due)
        return sum(pool.map(self.sender.drain, due))

    def run(self) -> None:
        """Deliver until `stop()`; see the module's docstring."""
        delay = RETRY_MIN_SECONDS
        with ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="webhook") as pool:
            while not self.stopping.is_set():
                try:
                    with self._leadership() as wait_for_news:
                        while not self.stopping.is_set():
                            self.run_once(pool)
                            self._beat()
                            delay = RETRY_MIN_SECONDS
                            wait_for_news(self._seconds_to_next_attempt())
                except Exception as error:  # a round's effects are each committed or not
                    log.warning("webhook delivery round failed (%s)", _one_line(error))
                    self.stopping.wait(delay)
                    delay = min(delay * 2, RETRY_MAX_SECONDS)

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

    def _seconds_to_next_attempt(self) -> float:
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
        if soonest is None:
            return self.config.poll_seconds
        return min(self.config.poll_seconds, max(MIN_WAIT_SECONDS, float(soonest) - time.time()))

    def _beat(self) -> None:
        now = time.time()
        self._caught_up_at = now
        if now - self._last_beat >= HEARTBEAT_SECONDS:
            heartbeat.beat(self.engine, WORKER_NAME, now, self._caught_up_at)
            self._last_beat = now

    @contextmanager
    def _leadership(self) -> Iterator[Callable[[float], None]]:
        if self.postgres_dsn is None or not isinstance(self.recorder, PostgresApplicationRecorder):

            def wait_local(timeout: float) -> None:
                self._wake.wait(timeout)
                self._wake.clear()

            yield wait_local
            return
        channel = self.recorder.channel_name
        key = f"crafting-webhooks:{self.recorder.datastore.schema}"
        with psycopg.connect(
            self.postgres_dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        ) as listen:
            while not self.stopping.is_set():
                row = listen.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()
                if row and row[0]:
                    break
                self.stopping.wait(self.config.poll_seconds)  # another worker leads
            listen.execute(f'LISTEN "{channel}"')

            def wait_notified(timeout: float) -> None:
                # Bounded: a lost NOTIFY costs at most one poll interval. The lock's
                # connection is used here, so a leader that lost it fails loudly.
                listen.execute("SELECT 1")
                for _ in listen.notifies(timeout=timeout, stop_after=1):
                    pass
                self._wake.clear()

            yield wait_notified


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__
