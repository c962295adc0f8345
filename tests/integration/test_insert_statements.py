"""The event store's insert passes each event as four plain parameters of one row
constructor (infra.postgres_store.OrderedApplicationRecorder.insert_events), not as
the library's array of composites that psycopg dumps in Python: the same function
stores the same rows, atomically, at positions in order; a save of more than
FLAT_EVENTS_MAX events passes the library's array."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, RecordConflictError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from infra.bootstrap import bootstrap
from infra.postgres_store import FLAT_EVENTS_MAX, OrderedApplicationRecorder
from infra.settings import Settings

pytestmark = pytest.mark.postgres

# Bytes and texts that quoting gets wrong when it gets anything wrong.
STATES = [b"{}", b'{"a":"\\"(,)\\\\ \\u00e9"}', bytes(range(256)), b"", b"NULL", b'"()"']
TOPICS = ["tests:E", 'tests:"quoted", (paren)', "tests:é ü \\ back", "tests:NULL"]


@pytest.fixture
def recorder(postgres_url: str) -> Iterator[OrderedApplicationRecorder]:
    built = bootstrap(Settings(database_url=postgres_url))
    built.prepare()
    assert isinstance(built.app.recorder, OrderedApplicationRecorder)
    yield built.app.recorder
    built.close()


def _events(count: int, first: int = 1) -> list[StoredEvent]:
    oid = uuid4()
    return [
        StoredEvent(oid, first + i, TOPICS[i % len(TOPICS)], STATES[i % len(STATES)])
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [1, 2, 7, FLAT_EVENTS_MAX, FLAT_EVENTS_MAX + 1])
def test_an_insert_stores_what_the_librarys_array_stores(
    recorder: OrderedApplicationRecorder, count: int
) -> None:
    ours, library = _events(count), _events(count)
    positions = recorder.insert_events(ours)
    library_positions = PostgresApplicationRecorder.insert_events(recorder, library)
    assert positions is not None and library_positions is not None
    assert len(positions) == count and positions == sorted(positions)
    assert min(library_positions) > max(positions)
    assert list(recorder.select_events(ours[0].originator_id)) == ours
    assert list(recorder.select_events(library[0].originator_id)) == library
    got = recorder.select_notifications(start=positions[0], limit=count)
    assert [n.id for n in got] == list(positions)
    assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in got] == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in ours
    ]


def test_a_conflicting_insert_stores_none_of_its_events(
    recorder: OrderedApplicationRecorder,
) -> None:
    first = _events(1)
    recorder.insert_events(first)
    oid = first[0].originator_id
    again = [
        StoredEvent(oid, 2, "tests:E", b"{}"),
        StoredEvent(oid, 1, "tests:E", b"{}"),  # taken
    ]
    with pytest.raises(RecordConflictError) as raised:
        recorder.insert_events(again)
    assert isinstance(raised.value, IntegrityError)
    assert [e.originator_version for e in recorder.select_events(oid)] == [1]


def test_an_insert_dumps_no_composite_and_composes_its_statement_once(
    recorder: OrderedApplicationRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder.insert_events(_events(3))  # the first insert of three composes its statement
    composites: list[Any] = []
    composed: list[Any] = []
    construct = recorder.construct_pg_stored_event
    as_bytes = sql.Composed.as_bytes

    def constructing(*args: Any, **kwargs: Any) -> Any:
        composites.append(kwargs)
        return construct(*args, **kwargs)

    def composing(self: sql.Composed, context: Any) -> bytes:
        composed.append(self)
        return as_bytes(self, context)

    monkeypatch.setattr(recorder, "construct_pg_stored_event", constructing)
    monkeypatch.setattr(sql.Composed, "as_bytes", composing)
    for _ in range(3):
        recorder.insert_events(_events(3))
    assert (len(composites), len(composed)) == (0, 0)
    recorder.insert_events(_events(FLAT_EVENTS_MAX + 1))  # the library's array
    assert len(composites) == FLAT_EVENTS_MAX + 1
