"""Read models: incremental equals rebuild, crash safety, concurrent projectors."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from domain.application import commands as c
from infra.alarms import open_alarms
from infra.bootstrap import Container, bootstrap
from infra.followers import read_models
from infra.followers.read_models import current_position, wait_for_position
from infra.settings import Settings
from projections.queries import live_read_model
from projections.tables import clustered_children, read_model
from tests.readmodel import random_workload, snapshot
from tests.support import Org
from tests.tampering import Raw, forged_tail


@pytest.fixture
def projected(container: Container) -> Container:
    container.prepare()
    return container


def test_incremental_processing_equals_a_rebuild(
    projected: Container, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # a rebuild that writes every 13 events, so flushing and forgetting are exercised
    monkeypatch.setattr(read_models, "REBUILD_FLUSH_EVENTS", 13)
    runner = projected.projector
    runner.batch_size = 7  # many small batches, split at arbitrary events
    rng = random.Random(20261124)
    org = Org(projected.app)
    successes = random_workload(
        org, rng, 400, between=lambda: rng.random() < 0.2 and runner.run_once()
    )
    assert successes > 150
    runner.catch_up()
    incremental = snapshot(projected.engines.reader)
    assert len(incremental["audit_log"]) == projected.app.recorder.max_notification_id()
    assert {r["status"] for r in incremental["agreements"]} >= {"ACTIVE", "PROPOSED"}
    # Outcomes are recorded and reverted on ended agreements, which a rebuild forgets
    # once written: those events must still reach them.
    assert {r["reverted"] for r in incremental["outcomes"]} == {True, False}
    runner.batch_size = 5
    projected.rebuild()
    assert snapshot(projected.engines.reader) == incremental
    # ... in memory, not by falling back to batch by batch (which would hide it).
    assert "failed in memory" not in caplog.text
    runner.batch_size = 1000
    projected.rebuild()
    assert snapshot(projected.engines.reader) == incremental
    assert runner.lag() == 0


def test_the_service_keeps_answering_from_the_old_tables_during_a_rebuild(
    projected: Container,
) -> None:
    org = Org(projected.app)
    org.active()
    projected.projector.catch_up()
    before = snapshot(projected.engines.reader)
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        assert snapshot(projected.engines.reader) == before  # still the live generation

    projected.projector.batch_size = 3
    projected.rebuild(progress)
    assert len(seen) > 2
    assert snapshot(projected.engines.reader) == before


def test_a_rebuild_builds_its_secondary_indexes_after_the_load(projected: Container) -> None:
    # Loaded without them (each built once from the full table, not updated row by
    # row), and every one is there once the new generation is live.
    org = Org(projected.app)
    org.active()
    projected.projector.catch_up()

    def indexes(generation: int) -> dict[str, set[str]]:
        found = inspect(projected.engines.writer)
        return {
            t.name: {str(i["name"]) for i in found.get_indexes(t.name) if not i["unique"]}
            for t in read_model(generation).metadata.sorted_tables
        }

    during: list[dict[str, set[str]]] = []

    def progress(done: int, total: int) -> None:
        with projected.engines.writer.connect() as conn:
            building = read_models._state(conn).building_generation
        if done < total and building is not None and not during:
            during.append(indexes(building))

    projected.projector.batch_size = 3
    projected.rebuild(progress)
    assert during
    assert all(not names for names in during[0].values()), during[0]
    with projected.engines.reader.connect() as conn:
        generation = live_read_model(conn).generation
    assert indexes(generation) == {
        t.name: {str(i.name) for i in t.indexes if not i.unique}
        for t in read_model(generation).metadata.sorted_tables
    }
    assert any(indexes(generation).values())


def test_a_rebuild_builds_its_indexes_on_a_sqlite_connection_that_read_the_new_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite checks a `CREATE INDEX`'s name against the connection's cached schema
    (BEGIN IMMEDIATE does not refresh it): a pooled connection that read the schema
    while an index existed, which another connection then dropped, refuses to create it
    again ("index ... already exists"). The pool gave the build such a connection now
    and then (tests/e2e/test_erasure_reason.py, 2 runs in 6); here it always does: the
    connection that read the schema as the load began is the only idle one."""
    built = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/crafting.db", jwt_secret=None))
    try:
        built.prepare()
        Org(built.app).active()
        built.projector.catch_up()
        before = snapshot(built.engines.reader)
        engine = built.engines.writer
        reader: list[Any] = []  # the connection that read the schema, until the build
        in_memory, build = read_models._Rebuild.in_memory, read_models._Rebuild._build

        def reading_the_schema_first(self: Any) -> int:
            raw = engine.raw_connection()
            raw.cursor().execute("SELECT count(*) FROM sqlite_master").fetchall()
            reader.append(raw)
            return in_memory(self)

        def on_that_connection(self: Any, indexes: Any) -> None:
            if not (indexes and reader):
                return build(self, indexes)
            idle = []
            while engine.pool.checkedin():  # type: ignore[attr-defined]
                idle.append(engine.raw_connection())
            reader.pop().close()  # back in the pool, alone: the build takes it
            try:
                return build(self, indexes)
            finally:
                for other in idle:
                    other.close()

        monkeypatch.setattr(read_models._Rebuild, "in_memory", reading_the_schema_first)
        monkeypatch.setattr(read_models._Rebuild, "_build", on_that_connection)
        built.rebuild()
        assert not reader  # the build ran on it
        assert "failed in memory" not in caplog.text
        assert snapshot(built.engines.reader) == before
    finally:
        built.close()


@pytest.mark.parametrize("batch_size", [1000, 3])
def test_a_rebuild_leaves_out_a_forged_event_and_takes_in_what_came_during_it(
    projected: Container, batch_size: int
) -> None:
    # The batch that reaches the log's head is handed to the switch, not read again
    # (1000: the whole log is that batch; 3: many batches before it): the forged event
    # in it is still left out, the events around it are projected, and an event
    # written while the rebuild runs is taken in under the switch's lock.
    reader = projected.engines.reader
    org = Org(projected.app)
    forged_in = org.active()
    raw = Raw(projected)
    forged_tail(raw, forged_in.id)  # untagged: the service did not write it
    forged = raw.head()
    org.propose()  # events after the forgery
    projected.projector.catch_up()
    incremental = snapshot(reader)

    def logged() -> list[int]:
        return [row["position"] for row in snapshot(reader)["audit_log"]]

    assert logged() == [p for p in range(1, raw.head() + 1) if p != forged]
    written: list[int] = []

    def progress(done: int, total: int) -> None:
        if done < total and not written:  # the rebuild is under way
            org.propose()
            written.append(raw.head())

    projected.projector.batch_size = batch_size
    projected.rebuild(progress)
    assert bool(written) == (batch_size == 3)
    assert logged() == [p for p in range(1, raw.head() + 1) if p != forged]
    assert current_position(reader) == raw.head()
    assert projected.projector.catch_up() == 0  # the rebuild left nothing behind
    if not written:  # the log did not change: the same tables as the live follower's
        assert snapshot(reader) == incremental
    with reader.connect() as conn:
        assert ("event.untagged", f"position {forged}") in {
            (a.kind, a.subject) for a in open_alarms(conn)
        }


def test_read_your_writes_and_lag(projected: Container) -> None:
    worker = threading.Thread(target=projected.projector.run, daemon=True)
    worker.start()
    try:
        org = Org(projected.app)
        result = projected.app.execute(
            org.employee, c.ProposeAgreement(title="T", career_goal=org.propose().career_goal)
        )
        assert wait_for_position(projected.engines.reader, result.position, timeout=10)
        assert current_position(projected.engines.reader) >= result.position
        assert projected.projector.lag() == 0
        assert not wait_for_position(projected.engines.reader, result.position + 1000, 0.05)
    finally:
        projected.projector.stop()
        worker.join(timeout=10)


def _projector(container: Container, *, pause: float, batch: int) -> subprocess.Popen[bytes]:
    key = container.settings.keys.signing_key
    env = {
        **os.environ,
        "CRAFTING_DATABASE_URL": container.settings.database.url,
        "CRAFTING_PROJECTOR_BATCH_SIZE": str(batch),
        # the service's key: the events carry its tags, which the projector checks
        **({"CRAFTING_SIGNING_KEY": key.get_secret_value()} if key is not None else {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.paused_projector", str(pause)],
        env=env,
        cwd=Path(__file__).parents[2],
    )


def test_a_projector_killed_mid_batch_resumes_to_the_same_tables(projected: Container) -> None:
    org = Org(projected.app)
    random_workload(org, random.Random(7), 150)
    head = projected.app.recorder.max_notification_id()
    reader = projected.engines.reader
    for _ in range(2):  # kill it twice, each time inside an open batch transaction
        start = current_position(reader)
        process = _projector(projected, pause=0.4, batch=25)
        deadline = time.monotonic() + 60
        while current_position(reader) == start and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # the next batch is applied and waits before its commit
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        killed_at = current_position(reader)
        assert start < killed_at < head
    process = _projector(projected, pause=0, batch=25)
    try:
        assert wait_for_position(reader, head, timeout=60)
    finally:
        process.terminate()
        process.wait(timeout=10)
    resumed = snapshot(reader)
    projected.rebuild()
    assert snapshot(reader) == resumed


@pytest.mark.postgres
def test_two_projectors_at_once_give_the_same_tables_as_one(postgres_url: str) -> None:
    first = bootstrap(Settings(database_url=postgres_url))
    second = bootstrap(Settings(database_url=postgres_url))
    first.prepare()
    first.projector.batch_size = second.projector.batch_size = 5
    workers = [
        threading.Thread(target=r.run, daemon=True) for r in (first.projector, second.projector)
    ]
    for worker in workers:
        worker.start()
    try:
        random_workload(Org(first.app), random.Random(3), 120)
        head = first.app.recorder.max_notification_id() or 0
        # and two projectors racing without leadership: still exactly once
        racing = [threading.Thread(target=r.catch_up) for r in (first.projector, second.projector)]
        for thread in racing:
            thread.start()
        for thread in racing:
            thread.join(timeout=60)
        assert wait_for_position(first.engines.reader, head, timeout=30)
        together = snapshot(first.engines.reader)
        assert len(together["audit_log"]) == head
        first.rebuild()
        assert snapshot(first.engines.reader) == together
    finally:
        for runner in (first.projector, second.projector):
            runner.stop()
        for worker in workers:
            worker.join(timeout=10)
        first.close()
        second.close()


def test_processes_starting_at_once_on_a_fresh_database_do_not_collide(database_url: str) -> None:
    containers = [bootstrap(Settings(database_url=database_url)) for _ in range(4)]
    errors: list[BaseException] = []

    def prepare(container: Container) -> None:
        try:
            container.prepare()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=prepare, args=(c,)) for c in containers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for container in containers:
        container.close()
    assert errors == []


def test_a_rebuild_leaves_each_agreements_children_together_on_disk(postgres_url: str) -> None:
    built = bootstrap(Settings(database_url=postgres_url))
    try:
        built.prepare()
        built.projector.batch_size = 5
        random_workload(Org(built.app), random.Random(11), 150)
        built.projector.catch_up()
        built.rebuild()
        with built.engines.reader.connect() as conn:
            rm = live_read_model(conn)
            for table, index in clustered_children(rm):
                marked = conn.exec_driver_sql(
                    "SELECT indisclustered FROM pg_index WHERE indexrelid = %(i)s::regclass",
                    {"i": index},
                ).scalar_one()
                # The agreement lists' children in their agreement's creation order (a
                # page's together), the outcomes by agreement; each agreement's together.
                key = "agreement_id" if table == rm.outcomes.name else "agreement_position"
                on_disk, in_order = (
                    conn.exec_driver_sql(
                        f'SELECT agreement_id, position FROM "{table}" ORDER BY {order}'
                    ).all()
                    for order in ("ctid", f"{key}, position")
                )
                assert marked, table
                assert on_disk == in_order, table
            # Agreements with several children of a kind: the order is not there by chance.
            assert (
                conn.exec_driver_sql(
                    f'SELECT count(*) FROM "{rm.adjustments.name}" GROUP BY agreement_id '
                    "ORDER BY 1 DESC LIMIT 1"
                ).scalar_one()
                > 1
            )
    finally:
        built.close()
