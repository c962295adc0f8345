"""The follower: the one loop that tails the event log for a consumer and drives its
dispatchers (infra.followers.interface), used by every consumer of the log — the read
models, webhook planning and delivery, checkpoint signing, retention, notifications.

Leadership and wake-ups are in infra.followers.leadership: one leader per follower on
PostgreSQL, woken by NOTIFY, every wait bounded. A round: check the lock's connection,
consume batches until the log's end (each batch and its position in one transaction,
see the interface), run the dispatchers, beat the heartbeat, wait for news.

A failing round is retried after a pause that doubles from RETRY_MIN_SECONDS up to
RETRY_MAX_SECONDS. A lost connection (or a restarting server) is logged as one line;
anything else is a bug or bad data and is logged with its traceback, and its
description (never data) goes to the follower's status row. When a batch fails the
follower retries its events one at a time; an event that fails alone
QUARANTINE_AFTER_FAILURES times is quarantined (infra.followers.quarantine) and the
follower goes on. When MAX_QUARANTINED_IN_A_ROW events in a row fail so, the fault is
not in the events but in the code (or the database): the follower quarantines no more,
raises a `follower.stalled` alarm and keeps retrying with backoff until fixed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import Engine

from infra.alarms import raise_alarm, resolve_alarm
from infra.followers import positions, quarantine, status
from infra.followers.errors import described, is_connection_error, one_line
from infra.followers.interface import Consumer, Dispatcher, Item
from infra.followers.leadership import leadership
from infra.followers.trust import EventTrust, alarm_untagged

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 1.0
RETRY_MIN_SECONDS = 0.2
RETRY_MAX_SECONDS = 10.0
MIN_WAIT_SECONDS = 0.02
QUARANTINE_AFTER_FAILURES = 3
MAX_QUARANTINED_IN_A_ROW = 3
STALLED = "follower.stalled"


class Follower:
    """Tails the log for one consumer (optional) and drives its dispatchers."""

    def __init__(
        self,
        name: str,
        engine: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        trust: EventTrust,
        *,
        consumer: Consumer | None = None,
        dispatchers: Sequence[Dispatcher] = (),
        reader: Engine | None = None,
        postgres_dsn: str | None = None,
        lock_file: Path | None = None,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
    ) -> None:
        self.name = name
        self.engine = engine
        self.reader = reader or engine
        self.recorder = recorder
        self.mapper = mapper
        self.trust = trust
        self.consumer = consumer
        self.dispatchers = list(dispatchers)
        self.postgres_dsn = postgres_dsn
        self.lock_file = lock_file  # SQLite: who leads (infra.followers.leadership)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._last_beat = 0.0
        self._caught_up_at = time.time()
        self._position: int | None = None
        self._careful_until = 0  # positions up to here are consumed one at a time
        self._failures: dict[int, int] = {}  # position -> failures of the event alone
        self._quarantined_in_a_row = 0
        self._moves = 0  # batches committed and events quarantined: progress
        # The last batch read was shorter than asked for: it reached the log's end.
        self._reached_end = False

    # --- the consumer ------------------------------------------------------------

    def prepare(self, start: int = 0) -> None:
        """Give the consumer its position (`start`) unless it has one."""
        if self.consumer is not None:
            positions.ensure(self.engine, self.consumer.name, start)

    def position(self) -> int | None:
        """The consumer's position (None without a consumer)."""
        if self.consumer is None:
            return None
        return positions.current_position(self.reader, self.consumer.name)

    def lag(self) -> int:
        """Events in the log the consumer has not processed yet (0 without one)."""
        position = self.position()
        if position is None:
            return 0
        return max(0, (self.recorder.max_notification_id() or 0) - position)

    def decode(self, batch: Sequence[Notification]) -> tuple[list[Item], list[Notification]]:
        """The events of `batch` the service wrote, decoded; and the others."""
        untrusted = self.trust.untrusted(batch)
        skip = {n.id for n in untrusted}
        items = [(n.id, self.mapper.to_domain_event(n)) for n in batch if n.id not in skip]
        return items, untrusted

    def run_once(self) -> int:
        """Consume the next batch; events consumed (0: caught up, -1: lost a race)."""
        consumer = self.consumer
        if consumer is None:
            return 0
        with self.reader.connect() as conn:
            start = positions.read(conn, consumer.name)
        assert start is not None, "call prepare() first"
        limit = 1 if start < self._careful_until else self.batch_size
        batch = self.recorder.select_notifications(start + 1, limit)
        self._reached_end = len(batch) < limit
        if not batch:
            self._position = start
            return 0
        try:
            return self._consume(consumer, start, batch)
        except Exception as error:
            if is_connection_error(error):
                raise
            if len(batch) > 1:  # find the event: retry them one at a time
                self._careful_until = max(self._careful_until, batch[-1].id)
                raise
            if not self._quarantine(consumer, start, batch[0], error):
                raise
            return 1

    def catch_up(self, after_batch: Callable[[], None] | None = None) -> int:
        """Consume batches until the log's end; the number of events consumed.

        A batch shorter than asked for reached the end, unless a save in this process
        woke the follower meanwhile: then it reads on, as a round under load finds more
        (and a new round would add its dispatch and lock check). Otherwise no further
        round trips (the position and the log read again) to find nothing: when saves
        are few that is two of a round's five statements besides the consumer's own, in
        each follower, after every save. Nothing is missed: the ordered insert commits
        positions in order, so nothing can appear below what the short read saw, and an
        event committed after it wakes the follower again (its NOTIFY, or the save's
        wake-up, which the next `wait` sees at once)."""
        total = 0
        while not self.stopping.is_set() and (consumed := self.run_once()) != 0:
            total += max(consumed, 0)
            if after_batch is not None:
                after_batch()
            if consumed > 0 and self._reached_end and not self._wake.is_set():
                break
        return total

    def _consume(self, consumer: Consumer, start: int, batch: Sequence[Notification]) -> int:
        items, untrusted = self.decode(batch)
        with self.engine.begin() as conn:
            if positions.read(conn, consumer.name, lock=True) != start:
                return -1  # another process (or a rebuild) moved it: fetch again
            for n in untrusted:
                alarm_untagged(conn, consumer.name, n)
            if items:
                consumer.handle(conn, items)
            positions.move(conn, consumer.name, batch[-1].id)
        self._position = batch[-1].id
        self._moves += 1
        if items:
            self._quarantined_in_a_row = 0
        self._failures = {p: n for p, n in self._failures.items() if p > batch[-1].id}
        return len(batch)

    def _quarantine(
        self, consumer: Consumer, start: int, n: Notification, error: Exception
    ) -> bool:
        """Count a failure of the event alone; quarantine it when it failed often
        enough (True). False: retry it after the backoff (the caller re-raises)."""
        failures = self._failures[n.id] = self._failures.get(n.id, 0) + 1
        if failures < QUARANTINE_AFTER_FAILURES:
            return False
        if self._quarantined_in_a_row >= MAX_QUARANTINED_IN_A_ROW:
            detail = (
                f"{consumer.name} failed on {self._quarantined_in_a_row + 1} events in a "
                f"row (last at position {n.id}: {described(error)}); it quarantines no more "
                "and retries until the fault is fixed. See its log for the traceback."
            )
            with self.engine.begin() as conn:
                raise_alarm(conn, STALLED, consumer.name, detail)
            return False
        with self.engine.begin() as conn:
            if positions.read(conn, consumer.name, lock=True) != start:
                return True  # another process went on meanwhile
            quarantine.put(conn, consumer.name, n, described(error))
            positions.move(conn, consumer.name, n.id)
        self._position = n.id
        self._moves += 1
        self._quarantined_in_a_row += 1
        self._failures.pop(n.id, None)
        return True

    # --- the loop -------------------------------------------------------------------

    def wake(self, _position: int = 0) -> None:
        """Called after a save in this process: look at the log now."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the current step (a dispatcher's send, a batch)."""
        self.stopping.set()
        self._wake.set()

    def dispatch(self) -> float:
        """Run every dispatcher once; seconds until the soonest has more to do."""
        wait = self.poll_seconds
        for dispatcher in self.dispatchers:
            if self.stopping.is_set():
                break
            due = dispatcher.dispatch()
            if due is not None:
                wait = min(wait, max(MIN_WAIT_SECONDS, due))
        return wait

    def run(self) -> None:
        """Follow the log until `stop()`; see the module's docstring."""
        delay = RETRY_MIN_SECONDS
        self._caught_up_at = time.time()
        moves_at_failure = self._moves
        while not self.stopping.is_set():
            try:
                with leadership(
                    self.name,
                    self.recorder,
                    self.postgres_dsn,
                    poll_seconds=self.poll_seconds,
                    stopping=self.stopping,
                    wake=self._wake,
                    lock_file=self.lock_file,
                ) as lead:
                    if lead is None:
                        return
                    self._last_beat = 0.0  # say at once who leads now
                    # ... and how far behind it starts: a first beat without a
                    # position made readiness call it caught up (lag unknown: 0).
                    self._position = self.position()
                    self._beat(caught_up=False)
                    while not self.stopping.is_set():
                        lead.check()
                        self.catch_up(after_batch=lambda: self._beat(caught_up=False))
                        wait = self.dispatch()
                        self._beat(caught_up=True)
                        if delay > RETRY_MIN_SECONDS:
                            self._recovered()
                        delay = RETRY_MIN_SECONDS
                        lead.wait(wait)
            except Exception as error:  # each batch and outcome is committed or not
                if self._moves != moves_at_failure:
                    delay = RETRY_MIN_SECONDS  # it went on since (quarantined one, say)
                moves_at_failure = self._moves
                if is_connection_error(error):
                    log.warning("%s lost its database connection (%s)", self.name, one_line(error))
                else:
                    log.exception("%s failed (retrying in %.1f s)", self.name, delay)
                status.failed(self.engine, self.name, described(error))
                self.stopping.wait(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def _recovered(self) -> None:
        if self.consumer is not None:
            with self.engine.begin() as conn:
                resolve_alarm(conn, STALLED, self.consumer.name, "crafting", "it went on")

    def _beat(self, *, caught_up: bool) -> None:
        now = time.time()
        if caught_up:
            self._caught_up_at = now
        if now - self._last_beat >= HEARTBEAT_SECONDS:
            status.beat(self.engine, self.name, now, self._caught_up_at, self._position)
            self._last_beat = now
