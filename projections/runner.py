"""The projection runner: reads the notification log in batches and applies each batch
to the read tables and the tracking position in one transaction.

Exactly once: the position is read before the batch is fetched and decoded, and read
again under the state row's lock (PostgreSQL `FOR UPDATE`, SQLite's single writer)
inside the writing transaction; if another runner moved it meanwhile, the batch is
dropped and fetched again. A crash anywhere rolls the whole batch back.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import DBAPIError

from projections import heartbeat
from projections.projector import BatchProjector
from projections.tables import (
    PROJECTION_NAME,
    READ_MODEL_VERSION,
    projection_state,
    read_model,
    state_metadata,
)

log = logging.getLogger(__name__)
WORKER_NAME = "projector"  # its heartbeat row, which /readyz reads
HEARTBEAT_SECONDS = 1.0
RETRY_MIN_SECONDS = 0.2
RETRY_MAX_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5
REBUILD_FLUSH_EVENTS = 50_000  # events projected in memory between writes of a rebuild
ProgressCallback = Callable[[int, int], None]


class ProjectionRunner:
    def __init__(
        self,
        engine: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        postgres_dsn: str | None = None,
        reader: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.reader = reader or engine
        self.recorder = recorder
        self.mapper = mapper
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.postgres_dsn = postgres_dsn
        self._wake = threading.Event()
        self.stopping = threading.Event()
        self._last_beat = 0.0
        self._caught_up_at = time.time()

    # --- setup ----------------------------------------------------------------

    def ensure_ready(self, progress: ProgressCallback | None = None) -> None:
        """Create the tables on first use; rebuild when the code's version is newer."""
        state_metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            state = _state(conn)
            if state is None:
                read_model(1).metadata.create_all(conn)
                conn.execute(
                    projection_state.insert().values(
                        name=PROJECTION_NAME, generation=1, version=READ_MODEL_VERSION, position=0
                    )
                )
                return
        if state.version != READ_MODEL_VERSION:
            log.info("read model version %s -> %s: rebuilding", state.version, READ_MODEL_VERSION)
            self.rebuild(progress)

    # --- incremental ------------------------------------------------------------

    def run_once(self) -> int:
        """Apply the next batch; the number of events applied (0 when caught up)."""
        with self.reader.connect() as conn:
            state = _state(conn)
        assert state is not None, "call ensure_ready() first"
        batch = self.recorder.select_notifications(state.position + 1, self.batch_size)
        if not batch:
            return 0
        items = self._decode(batch)
        with self.engine.begin() as conn:
            locked = _state(conn, lock=True)
            assert locked is not None
            if (locked.position, locked.generation) != (state.position, state.generation):
                return -1  # another runner (or a rebuild) moved on: fetch again
            BatchProjector(conn, read_model(locked.generation)).apply(items)
            _set(conn, position=batch[-1].id)
        return len(batch)

    def catch_up(self, after_batch: Callable[[], None] | None = None) -> int:
        """Apply batches until the log is exhausted; the number of events applied."""
        total = 0
        while (applied := self.run_once()) != 0:
            total += max(applied, 0)
            if after_batch is not None:
                after_batch()
        return total

    def wake(self, _position: int = 0) -> None:
        """Called after a save in this process: process the new events now."""
        self._wake.set()

    def run(self) -> None:
        """Keep the read models caught up until `stopping` is set. On PostgreSQL one
        runner leads (advisory lock) and wakes on NOTIFY; every wait is bounded. Lost
        connections, a restarting server and failing batches are logged and retried
        after a growing pause (at most RETRY_MAX_SECONDS): only `stop()` ends it."""
        delay = RETRY_MIN_SECONDS
        self._caught_up_at = time.time()
        while not self.stopping.is_set():
            try:
                with self._leadership() as wait_for_news:
                    while not self.stopping.is_set():
                        self.catch_up(after_batch=lambda: self._beat(caught_up=False))
                        self._beat(caught_up=True)
                        delay = RETRY_MIN_SECONDS
                        wait_for_news()
            except Exception as error:  # a failed batch rolled back; nothing half-applied
                if _is_connection_error(error):
                    log.warning("projector lost its database connection (%s)", _one_line(error))
                else:
                    log.exception("projection batch failed")
                log.info("projector retries in %.1f s", delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    def _beat(self, *, caught_up: bool) -> None:
        now = time.time()
        if caught_up:
            self._caught_up_at = now
        if now - self._last_beat >= HEARTBEAT_SECONDS:
            heartbeat.beat(self.engine, WORKER_NAME, now, self._caught_up_at)
            self._last_beat = now

    @contextmanager
    def _leadership(self) -> Iterator[Callable[[], None]]:
        if self.postgres_dsn is None or not isinstance(self.recorder, PostgresApplicationRecorder):

            def wait_local() -> None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

            yield wait_local
            return
        channel = self.recorder.channel_name
        key = f"crafting-projector:{self.recorder.datastore.schema}"
        with psycopg.connect(
            self.postgres_dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        ) as listen:
            while not self.stopping.is_set():
                row = listen.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()
                if row and row[0]:
                    break
                self.stopping.wait(self.poll_seconds)  # another projector leads
            listen.execute(f'LISTEN "{channel}"')

            def wait_notified() -> None:
                # Bounded: a lost NOTIFY costs at most one poll interval.
                for _ in listen.notifies(timeout=self.poll_seconds, stop_after=1):
                    pass
                self._wake.clear()

            yield wait_notified

    # --- rebuild ----------------------------------------------------------------

    def rebuild(self, progress: ProgressCallback | None = None) -> int:
        """Fill a fresh generation of tables from position 0 and switch to it; the old
        tables keep serving until the switch. Returns the number of events applied."""
        with self.engine.begin() as conn:
            state = _state(conn, lock=True)
            assert state is not None
            if state.building_generation is not None:  # an interrupted rebuild
                read_model(state.building_generation).metadata.drop_all(conn)
            target = max(state.generation, state.building_generation or 0) + 1
            _set(conn, building_generation=target)
        rm = read_model(target)
        rm.metadata.drop_all(self.engine)
        rm.metadata.create_all(self.engine)
        head = self.recorder.max_notification_id() or 0
        projector = BatchProjector(None, rm, remember=True)
        position = applied = unflushed = 0
        collecting = gc.isenabled()
        gc.disable()  # millions of short-lived rows; nothing cyclic worth collecting
        try:
            while True:
                batch = self.recorder.select_notifications(position + 1, self.batch_size)
                if batch and batch[-1].id < head:
                    projector.project(self._decode(batch))
                    position, applied = batch[-1].id, applied + len(batch)
                    unflushed += len(batch)
                    if unflushed >= REBUILD_FLUSH_EVENTS:
                        with self.engine.begin() as conn:
                            projector.conn = conn
                            projector.flush()
                        unflushed = 0
                    if progress is not None:
                        progress(position, head)
                    continue
                # The end: catch up and switch under the state lock, so no batch of the
                # live runner slips in between.
                with self.engine.begin() as conn:
                    locked = _state(conn, lock=True)
                    assert locked is not None
                    rest = self.recorder.select_notifications(position + 1, 10**9)
                    if rest:
                        projector.project(self._decode(rest))
                        position, applied = rest[-1].id, applied + len(rest)
                    projector.conn = conn
                    projector.flush()
                    _set(
                        conn,
                        generation=target,
                        position=position,
                        version=READ_MODEL_VERSION,
                        building_generation=None,
                    )
                    read_model(locked.generation).metadata.drop_all(conn)
                if progress is not None:
                    progress(position, max(head, position))
                return applied
        finally:
            if collecting:
                gc.enable()

    def lag(self) -> int:
        """Events in the log that the read models have not processed yet."""
        return max(0, (self.recorder.max_notification_id() or 0) - current_position(self.reader))

    def _decode(self, batch: Sequence[Notification]) -> list[tuple[int, Any]]:
        return [(n.id, self.mapper.to_domain_event(n)) for n in batch]


def _state(conn: Connection, *, lock: bool = False) -> Any:
    query = select(projection_state).where(projection_state.c.name == PROJECTION_NAME)
    if lock:
        query = query.with_for_update()
    return conn.execute(query).one_or_none()


def _set(conn: Connection, **values: Any) -> None:
    conn.execute(
        update(projection_state).where(projection_state.c.name == PROJECTION_NAME).values(**values)
    )


def current_position(engine: Engine) -> int:
    """The last position the read models have processed."""
    with engine.connect() as conn:
        state = _state(conn)
    return 0 if state is None else int(state.position)


def wait_for_position(engine: Engine, position: int, timeout: float) -> bool:
    """Wait (bounded) until the read models reach `position` (read-your-writes)."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while current_position(engine) < position:
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    return True


def _is_connection_error(error: BaseException) -> bool:
    """A lost or refused connection, from psycopg, SQLAlchemy or the event store."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"OperationalError", "InterfaceError", "PoolTimeout"})


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__
