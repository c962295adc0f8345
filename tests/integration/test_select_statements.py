"""The event store's reads compose each shape of their statement once
(infra.postgres_store.ComposedOnce) and answer exactly as the library's reads do."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg import sql

from infra.bootstrap import Container, bootstrap
from infra.settings import Settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_url: str) -> Iterator[Container]:
    built = bootstrap(Settings(database_url=postgres_url))
    built.prepare()
    yield built
    built.close()


def test_each_shape_answers_as_the_librarys_read(store: Container) -> None:
    recorder = store.app.recorder
    assert isinstance(recorder, PostgresAggregateRecorder)
    oid = uuid4()
    recorder.insert_events([StoredEvent(oid, v, "tests:E", b"{}") for v in range(1, 8)])
    library = PostgresAggregateRecorder.select_events
    for gt, lte, desc, limit in product((None, 2), (None, 6), (False, True), (None, 3)):
        kwargs: dict[str, Any] = {"gt": gt, "lte": lte, "desc": desc, "limit": limit}
        assert recorder.select_events(oid, **kwargs) == library(recorder, oid, **kwargs)


def test_a_read_composes_no_statement_once_its_shape_was_read(
    store: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = store.app.recorder
    oid = uuid4()
    recorder.select_events(oid, gt=1)  # the shape's first read composes it
    composed: list[object] = []
    as_bytes = sql.Composed.as_bytes

    def counting(self: sql.Composed, context: Any) -> bytes:
        composed.append(self)
        return as_bytes(self, context)

    monkeypatch.setattr(sql.Composed, "as_bytes", counting)
    recorder.select_events(oid, gt=1)
    recorder.select_events(oid, gt=1)
    assert composed == []
    recorder.select_events(oid, lte=4, desc=True, limit=1)  # a new shape: once
    recorder.select_events(oid, lte=4, desc=True, limit=1)
    assert len(composed) == 1
