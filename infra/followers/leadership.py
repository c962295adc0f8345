"""Leadership and wake-ups of a follower.

On PostgreSQL one process per follower leads: it holds a session advisory lock on a
connection of its own, which is also the connection that LISTENs to the event store's
NOTIFY. Before each round the leader checks that connection is alive (a leader whose
lock connection died has lost its lock: it stops, and the next round tries to take it
again), and every wait is bounded by the poll interval, so a lost NOTIFY costs at most
one interval. On SQLite the leader holds an exclusive lock (flock) on a file beside the
database, `<database>.<follower>.lock`, so of several processes (`serve --workers N`)
one runs each follower; it waits on an in-process event set after each save, bounded
the same way (a save in another process is seen within the poll interval).

eventsourcing 9.5 offers `recorder.subscribe()` (`eventsourcing.projection` builds on
it): it is not used here because SQLite's recorder has no subscriptions; its iterator
blocks without a bound (a follower must beat its heartbeat and dispatch while idle); it
LISTENs on a pooled connection of its own, apart from the one holding the lock, so a
lost lock would go unnoticed; and its position (the library's tracking table) cannot
commit in one transaction with our consumers' SQLAlchemy writes.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import psycopg
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder

CONNECT_TIMEOUT_SECONDS = 5
WAKE_SLICE_SECONDS = 0.1  # how soon a waiting leader sees a wake-up on PostgreSQL


class Lead(Protocol):
    """What a leader holds while it leads."""

    def check(self) -> None:
        """Raise if leadership was lost (the lock's connection died)."""
        ...

    def wait(self, timeout: float) -> None:
        """Wait for news (a NOTIFY or a wake-up) for at most `timeout` seconds."""
        ...


class _Local:
    def __init__(self, wake: threading.Event) -> None:
        self._wake = wake

    def check(self) -> None:
        return None

    def wait(self, timeout: float) -> None:
        self._wake.wait(max(0.0, timeout))
        self._wake.clear()


class _Postgres:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], wake: threading.Event) -> None:
        self._conn = conn
        self._wake = wake

    def check(self) -> None:
        self._conn.execute("SELECT 1")  # raises when the lock's connection is gone

    def wait(self, timeout: float) -> None:
        # In slices: a wake-up (a save in this process, or `stop()`) cannot interrupt
        # `notifies()`, and a stopping service would otherwise wait out the whole poll.
        # A NOTIFY arriving between slices waits in psycopg's backlog for the next one.
        deadline = time.monotonic() + max(0.001, timeout)
        while not self._wake.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            slice_ = min(WAKE_SLICE_SECONDS, remaining)
            if any(True for _ in self._conn.notifies(timeout=slice_, stop_after=1)):
                break
        self._wake.clear()


@contextmanager
def leadership(
    name: str,
    recorder: ApplicationRecorder,
    postgres_dsn: str | None,
    *,
    poll_seconds: float,
    stopping: threading.Event,
    wake: threading.Event,
    lock_file: Path | None = None,
) -> Iterator[Lead | None]:
    """Lead the follower `name`: yields once this process leads (None when stopped
    while waiting for the lock). Leaving the block gives the lock up."""
    if postgres_dsn is None or not isinstance(recorder, PostgresApplicationRecorder):
        if lock_file is None:
            yield _Local(wake)
            return
        with lock_file.open("a") as held:
            while not stopping.is_set():
                try:
                    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    stopping.wait(poll_seconds)  # another process leads
            else:
                yield None
                return
            try:
                yield _Local(wake)
            finally:
                fcntl.flock(held, fcntl.LOCK_UN)
        return
    key = f"crafting-{name}:{recorder.datastore.schema}"  # as before: projector, webhooks
    with psycopg.connect(
        postgres_dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
    ) as conn:
        while not stopping.is_set():
            row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()
            if row and row[0]:
                break
            stopping.wait(poll_seconds)  # another process leads
        else:
            yield None
            return
        conn.execute(f'LISTEN "{recorder.channel_name}"')
        yield _Postgres(conn, wake)
