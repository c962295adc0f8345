"""Every reader of the log sees every event exactly once, in order, while many writers
commit at once (PostgreSQL: positions come from a sequence, so commit order must be
made to equal position order)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from infra.bootstrap import Container, bootstrap
from infra.followers.read_models import wait_for_position
from infra.settings import Settings
from projections.queries import change_feed, live_read_model
from tests.readmodel import snapshot
from tests.support import Org, draft

pytestmark = pytest.mark.postgres

WRITERS = 8
SECONDS_PER_ROUND = 3.0
MIN_PER_WRITER = 30  # 240 proposals at least: the test asks for more than 200 events


@pytest.fixture
def store(postgres_url: str) -> Iterator[Container]:
    built = bootstrap(Settings(database_url=postgres_url, db_pool_size=2, db_max_overflow=10))
    built.prepare()
    yield built
    built.close()


def _stored_event() -> StoredEvent:
    return StoredEvent(uuid4(), 1, "tests:Unprojected", b"{}")


def test_an_insert_waits_for_an_earlier_one_still_in_flight(store: Container) -> None:
    recorder = store.app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    first = recorder.construct_pg_stored_event(**vars(_stored_event()))
    later_done = threading.Event()

    def insert_later() -> None:
        recorder.insert_events([_stored_event()])
        later_done.set()

    with recorder.datastore.get_connection() as conn, conn.transaction():
        # The insert function, as a save calls it, but its transaction left open.
        (row,) = conn.execute(recorder.sql_invoke_pg_function_insert_events, ([first],)).fetchall()
        in_flight = row[recorder.pg_function_name_insert_events]
        writer = threading.Thread(target=insert_later)
        writer.start()
        time.sleep(0.5)
        visible = [n.id for n in recorder.select_notifications(1, 100)]
        # A reader that saw a later position now would pass `in_flight` for good.
        assert not later_done.is_set()
        assert all(position < in_flight for position in visible)
    writer.join(timeout=30)
    assert later_done.is_set()
    ids = [n.id for n in recorder.select_notifications(1, 100)]
    assert in_flight in ids
    assert ids == sorted(ids)
    assert max(ids) > in_flight


def _write_for(store: Container, seconds: float, errors: list[BaseException]) -> None:
    """Proposals for `seconds`, and at least MIN_PER_WRITER of them: a loaded machine
    (CI's other worker in a browser test) once let 8 writers commit 108 events in 3 s."""
    org = Org(store.app)
    deadline = time.monotonic() + seconds
    written = 0
    try:
        while written < MIN_PER_WRITER or time.monotonic() < deadline:
            org.propose(draft(1))
            written += 1
    except BaseException as error:
        errors.append(error)


@pytest.mark.parametrize("round_", range(3))
def test_many_writers_a_tailing_projector_and_feed_readers_miss_nothing(
    store: Container, round_: int
) -> None:
    app, reader = store.app, store.engines.reader
    stop = threading.Event()
    tailed: list[int] = []  # what a raw log reader saw (like export and the checkpoint follower)
    fed: list[int] = []  # what a `changes` client saw, page after page

    def tail_log() -> None:
        position = 0
        while not stop.is_set():
            batch = app.recorder.select_notifications(position + 1, 50)
            tailed.extend(n.id for n in batch)
            position = batch[-1].id if batch else position

    def read_feed() -> None:
        after: int | None = None
        while not stop.is_set():
            with reader.connect() as conn:
                rows = change_feed(conn, live_read_model(conn), after, 50)
            fed.extend(int(r["position"]) for r in rows)
            after = int(rows[-1]["position"]) if rows else after

    projector = threading.Thread(target=store.projector.run, daemon=True)
    readers = [threading.Thread(target=f, daemon=True) for f in (tail_log, read_feed)]
    errors: list[BaseException] = []
    writers = [
        threading.Thread(target=_write_for, args=(store, SECONDS_PER_ROUND, errors))
        for _ in range(WRITERS)
    ]
    for thread in [projector, *readers, *writers]:
        thread.start()
    try:
        for thread in writers:
            thread.join(timeout=120)
        assert errors == []
        head = app.recorder.max_notification_id() or 0
        assert wait_for_position(reader, head, timeout=60)
        time.sleep(0.3)  # the readers' last pages
    finally:
        stop.set()
        store.projector.stop()
        for thread in [projector, *readers]:
            thread.join(timeout=30)
    every = [n.id for n in app.recorder.select_notifications(1, 10**7)]
    assert len(every) > 200
    assert tailed == every
    assert fed == every
    incremental = snapshot(reader)
    assert [r["position"] for r in incremental["audit_log"]] == every
    store.rebuild()
    assert snapshot(reader) == incremental
