"""A rebuild writes each flush on a thread of its own (PostgreSQL) while it projects the
next events (infra.followers.rebuild_writes): the writes really overlap the projection,
the result is the incremental projection's, and a write that fails midway leaves the live
generation and the follower's position as they were."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

import projections.projector as projector_module
from infra.bootstrap import Container, bootstrap
from infra.followers import read_models
from infra.followers.read_models import current_position
from infra.settings import Settings
from projections.projector import BatchProjector
from tests.readmodel import random_workload, snapshot
from tests.support import Org

SLOW_WRITE = 0.4  # seconds the first write of a rebuild is held


@pytest.fixture
def projected(postgres_url: str) -> Iterator[Container]:
    built = bootstrap(Settings(database_url=postgres_url))
    built.prepare()
    built.projector.batch_size = 5
    random_workload(Org(built.app), random.Random(28), 120)
    built.projector.catch_up()
    yield built
    built.close()


def test_a_rebuild_projects_the_next_events_while_a_flush_is_written(
    projected: Container, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    incremental = snapshot(projected.engines.reader)
    monkeypatch.setattr(read_models, "REBUILD_FLUSH_EVENTS", 20)
    main = threading.get_ident()
    writing: list[tuple[float, float]] = []  # the writes run off the main thread
    projecting: list[float] = []  # when the main thread began projecting a batch
    append_cells, project = projector_module.append_cells, BatchProjector.project

    def held_append(conn: Any, table: Any, rows: list[list[Any]]) -> None:
        began = time.monotonic()
        if threading.get_ident() != main and not writing:
            time.sleep(SLOW_WRITE)  # PostgreSQL busy with a large COPY, say
        append_cells(conn, table, rows)
        if threading.get_ident() != main:
            writing.append((began, time.monotonic()))

    def timed_project(self: BatchProjector, items: Any) -> None:
        if threading.get_ident() == main:
            projecting.append(time.monotonic())
        project(self, items)

    monkeypatch.setattr(projector_module, "append_cells", held_append)
    monkeypatch.setattr(BatchProjector, "project", timed_project)
    projected.rebuild()
    assert "failed in memory" not in caplog.text
    assert writing, "no write ran on a thread of its own"
    began, ended = writing[0]
    assert ended - began >= SLOW_WRITE
    assert any(began < at < ended for at in projecting), "nothing projected during a write"
    assert snapshot(projected.engines.reader) == incremental
    assert projected.projector.lag() == 0


def test_a_write_failing_midway_leaves_the_live_generation_and_position(
    projected: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(projected.engines.reader)
    position = current_position(projected.engines.writer)
    monkeypatch.setattr(read_models, "REBUILD_FLUSH_EVENTS", 20)
    main = threading.get_ident()
    calls = 0
    append_cells = projector_module.append_cells

    def failing_append(conn: Any, table: Any, rows: list[list[Any]]) -> None:
        nonlocal calls
        calls += 1
        if threading.get_ident() != main and calls > 3:
            # A lost connection: not retried batch by batch, the rebuild stops.
            raise psycopg.OperationalError("the server closed the connection")
        append_cells(conn, table, rows)

    monkeypatch.setattr(projector_module, "append_cells", failing_append)
    with pytest.raises(psycopg.OperationalError):
        projected.rebuild()
    assert snapshot(projected.engines.reader) == before
    assert current_position(projected.engines.writer) == position
    # ... and the next attempt starts over and gives the same tables.
    monkeypatch.setattr(projector_module, "append_cells", append_cells)
    projected.rebuild()
    assert snapshot(projected.engines.reader) == before


def test_a_write_refused_midway_is_retried_batch_by_batch(
    projected: Container, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = snapshot(projected.engines.reader)
    monkeypatch.setattr(read_models, "REBUILD_FLUSH_EVENTS", 20)
    main = threading.get_ident()
    append_cells = projector_module.append_cells
    refused = False

    def refusing_append(conn: Any, table: Any, rows: list[list[Any]]) -> None:
        nonlocal refused
        if threading.get_ident() != main and not refused:
            refused = True
            raise ValueError("a row the database refuses")
        append_cells(conn, table, rows)

    monkeypatch.setattr(projector_module, "append_cells", refusing_append)
    projected.rebuild()
    assert refused
    assert "failed in memory" in caplog.text
    assert snapshot(projected.engines.reader) == before
    assert projected.projector.lag() == 0
