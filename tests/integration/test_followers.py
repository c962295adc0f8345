"""The follower of the log under faults: an event the database refuses, a consumer
with a bug, a dropped connection, a leader killed — each survived, nothing skipped or
applied twice."""

from __future__ import annotations

import copy
import logging
import random
import signal
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from sqlalchemy import Connection, create_engine, select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from api.cli.main import cli
from domain.application import commands as c
from domain.person import Person, Profile
from infra.alarms import open_alarms
from infra.bootstrap import Container, bootstrap
from infra.followers import Follower
from infra.followers.errors import is_connection_error
from infra.followers.follower import QUARANTINE_AFTER_FAILURES, STALLED
from infra.followers.quarantine import QUARANTINED, listed
from infra.followers.read_models import current_position, wait_for_position
from infra.followers.tables import status
from infra.retention import erase_past_retention
from infra.settings import Settings
from infra.signing import new_private_key
from tests.processes import eventually, service_env, start
from tests.readmodel import random_workload, snapshot
from tests.support import Org
from tests.tampering import Raw


def _run(follower: Follower) -> threading.Thread:
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    return thread


def _stop(follower: Follower, thread: threading.Thread) -> None:
    follower.stop()
    thread.join(timeout=15)
    assert not thread.is_alive()


def _insert_person_with_nul(container: Container) -> int:
    """A directory event the service wrote (tagged), whose person id holds a NUL: what
    an identity provider's token could once get recorded. Its position."""
    app = container.app
    registered = next(
        app.mapper.to_domain_event(n)
        for n in app.recorder.select_notifications(1, 100)
        if n.topic.endswith("Person.Registered")
    )
    bad = copy.copy(registered)
    object.__setattr__(bad, "originator_id", uuid4())
    object.__setattr__(bad, "person_id", "hr\u0000x")
    assert isinstance(bad, Person.Registered)
    app.recorder.insert_events([app.mapper.to_stored_event(bad)])
    return int(app.recorder.max_notification_id() or 0)


@pytest.mark.postgres
def test_an_event_postgresql_refuses_is_quarantined_and_the_projector_goes_on(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=postgres_url, signing_key=new_private_key())
    monkeypatch.setenv("CRAFTING_DATABASE_URL", postgres_url)
    monkeypatch.setenv("CRAFTING_SIGNING_KEY", settings.keys.signing_key.get_secret_value())  # type: ignore[union-attr]
    container = bootstrap(settings)
    try:
        container.prepare()
        org = Org(container.app)
        bad = _insert_person_with_nul(container)
        org.active()  # events behind the bad one
        head = container.app.recorder.max_notification_id() or 0
        projector = container.projector
        thread = _run(projector)
        try:
            assert wait_for_position(container.engines.reader, head, timeout=30)
        finally:
            _stop(projector, thread)
        with container.engines.reader.connect() as conn:
            (quarantined,) = listed(conn)
            alarms = {(a.kind, a.subject): a for a in open_alarms(conn)}
        assert (quarantined.follower, quarantined.position) == ("projector", bad)
        assert "cannot contain NUL" in quarantined.error
        assert "hr" not in quarantined.error  # the refused value is never repeated
        assert (QUARANTINED, f"projector position {bad}") in alarms
        people = {row["person_id"] for row in snapshot(container.engines.reader)["people"]}
        assert org.employee_id in people  # what came after it was projected
        incremental = snapshot(container.engines.reader)

        # A rebuild survives it as well, and gives the same tables.
        assert container.rebuild() == head
        assert snapshot(container.engines.reader) == incremental

        # The operator's view and resolution.
        runner = CliRunner()
        shown = runner.invoke(cli, ["quarantine", "list"])
        assert shown.exit_code == 0 and f"projector\tposition {bad}\t" in shown.output
        again = runner.invoke(cli, ["quarantine", "retry", "projector", str(bad)])
        assert again.exit_code == 1 and "cannot contain NUL" in again.output
        done = runner.invoke(
            cli, ["quarantine", "acknowledge", "projector", str(bad), "--note", "bad id"]
        )
        assert done.exit_code == 0, done.output
        assert runner.invoke(cli, ["quarantine", "list"]).output == "No quarantined events.\n"
        with container.engines.reader.connect() as conn:
            assert (QUARANTINED, f"projector position {bad}") not in {
                (a.kind, a.subject) for a in open_alarms(conn)
            }
    finally:
        container.close()


class Broken:
    """A consumer with a bug: it fails on every event, naming a person in its error."""

    name = "broken"

    def __init__(self) -> None:
        self.attempts: list[float] = []

    def handle(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        self.attempts.append(time.monotonic())
        raise KeyError("sam@example.com")


def test_a_consumer_bug_is_logged_with_its_traceback_and_backs_off(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    container.prepare()
    Org(container.app)
    consumer = Broken()
    follower = container.follower("broken", consumer=consumer)
    follower.prepare()
    caplog.set_level(logging.INFO)
    thread = _run(follower)
    try:

        def stalled() -> bool:
            with container.engines.reader.connect() as conn:
                return any(a.kind == STALLED for a in open_alarms(conn))

        # Three events quarantined in a row: the fault is the code's; it stops there.
        assert eventually(stalled, 30)
        with container.engines.reader.connect() as conn:
            assert [q.position for q in listed(conn)] == [1, 2, 3]
            row = conn.execute(select(status).where(status.c.name == "broken")).one()
        assert row.last_error.startswith("KeyError at test_followers.py:")
        before = len(consumer.attempts)
        time.sleep(4)
        # Bounded: the pause doubles (0.2 s up to 10 s), never a busy loop.
        assert len(consumer.attempts) - before <= 4
        assert follower.position() == 3
    finally:
        _stop(follower, thread)
    failures = [r for r in caplog.records if r.name == "infra.followers.follower"]
    assert failures and all(r.exc_info is not None for r in failures)
    # What it says of the bug (logs' messages, tables, alarms) never quotes the data.
    assert not [r for r in caplog.records if "sam@example.com" in r.getMessage()]
    with container.engines.reader.connect() as conn:
        said = [q.error for q in listed(conn)] + [a.detail for a in open_alarms(conn)]
    assert said and not [text for text in said if "sam@" in text]
    gaps = [b - a for a, b in zip(consumer.attempts, consumer.attempts[1:], strict=False)]
    assert max(gaps) <= 10.5


class Refused:
    """A consumer whose statement the database refuses (a table it does not have)."""

    name = "refused"

    def handle(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        conn.exec_driver_sql("SELECT * FROM crafting_no_such_table")


def test_a_statement_the_database_refuses_is_quarantined_not_retried_as_a_lost_connection(
    container: Container,
) -> None:
    # SQLite says OperationalError for a refused statement as for a locked or missing
    # file; only the latter is a connection's fault. Taken for one, the follower would
    # retry the event forever, quietly, instead of quarantining it as PostgreSQL's does.
    container.prepare()
    Org(container.app)
    follower = container.follower("refused", consumer=Refused())
    follower.prepare()
    failures = []
    for _ in range(1 + QUARANTINE_AFTER_FAILURES):  # the batch, then the first event alone
        try:
            if follower.run_once() == 1:
                break
        except Exception as error:
            failures.append(error)
    assert failures and not [e for e in failures if is_connection_error(e)]
    with container.engines.reader.connect() as conn:
        (quarantined,) = listed(conn)
    assert (quarantined.follower, quarantined.position) == ("refused", 1)
    assert "crafting_no_such_table" in quarantined.error


def test_a_locked_sqlite_database_is_retried_like_a_lost_connection(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("CREATE TABLE t (a)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
        with pytest.raises(OperationalError, match="locked") as locked, engine.connect() as conn:
            conn.exec_driver_sql("SELECT * FROM t").all()
        assert is_connection_error(locked.value)
        engine.dispose()
    finally:
        holder.rollback()
        holder.close()


class Recording:
    """A consumer that notes the positions it was given."""

    name = "recording"

    def __init__(self) -> None:
        self.positions: list[int] = []

    def handle(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        self.positions.extend(position for position, _ in events)


def test_a_short_batch_ends_the_catch_up_without_reading_the_log_again(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.prepare()
    org = Org(container.app)
    recorder = container.app.recorder
    reads: list[int] = []  # the length of each read of the log
    select = recorder.select_notifications

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = select(*args, **kwargs)
        reads.append(len(found))
        return found

    monkeypatch.setattr(recorder, "select_notifications", counted)
    head = int(recorder.max_notification_id() or 0)
    assert head > 4
    consumer = Recording()
    follower = container.follower("recording", consumer=consumer)
    follower.prepare()
    follower.batch_size = head + 1
    assert follower.catch_up() == head
    assert reads == [head]  # one read: it was short, so it reached the end

    # Full batches go on reading; the first short (here empty) one stops.
    for hours in (30, 31, 32, 33):  # one event each
        profile = Profile("Emp", "emp@example.com", org.manager_id, "team", hours, True)
        container.app.execute(
            org.hr, c.UpsertPeople(people=[c.DirectoryEntry(org.employee_id, profile)])
        )
    now = int(recorder.max_notification_id() or 0)
    follower.batch_size = 2
    reads.clear()
    assert follower.catch_up() == now - head
    assert reads[-1] < 2 and all(n == 2 for n in reads[:-1])
    # Every position once, in order: nothing skipped or applied twice.
    assert consumer.positions == list(range(1, now + 1))

    # Woken by a save meanwhile (what a round under load sees): it reads on.
    container.app.execute(org.hr, c.UpsertPeople(people=[c.DirectoryEntry(org.mate_id, profile)]))
    follower.batch_size = 500
    reads.clear()
    follower.wake()
    assert follower.catch_up() == 1
    assert reads == [1, 0]


def test_retention_never_acts_on_an_event_written_around_the_service(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, signing_key=new_private_key(), retention_days_after_leaving=30
    )
    container = bootstrap(settings)
    try:
        container.prepare()
        org = Org(container.app)
        leaving = Profile("Emp", "emp@example.com", org.manager_id, "team", 40, False)
        container.app.execute(
            org.hr, c.UpsertPeople(people=[c.DirectoryEntry(org.employee_id, leaving)])
        )
        # The attacker backdates the deactivation by two years, so that retention
        # would erase the employee now.
        position = container.app.recorder.max_notification_id() or 0
        Raw(container).backdate_and_untag(position, "2024-01-02T09:00:00+00:00")
        container.projector.catch_up()
        assert erase_past_retention(container).erased == []
        with container.engines.reader.connect() as conn:
            assert ("event.untagged", f"position {position}") in {
                (a.kind, a.subject) for a in open_alarms(conn)
            }
    finally:
        container.close()


def _terminate_other_backends(url: str) -> int:
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
def test_a_dropped_connection_is_survived(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    container = bootstrap(Settings(database_url=postgres_url))
    try:
        container.prepare()
        projector = container.projector
        caplog.set_level(logging.INFO)
        thread = _run(projector)
        try:
            org = Org(container.app)
            org.active()
            reader = container.engines.reader
            assert wait_for_position(reader, container.app.recorder.max_notification_id() or 0, 15)
            assert _terminate_other_backends(postgres_url) >= 1  # the lock's connection too
            for _ in range(3):
                try:
                    org.active()
                except Exception:
                    continue
            head = container.app.recorder.max_notification_id() or 0
            assert wait_for_position(reader, head, timeout=30)
        finally:
            _stop(projector, thread)
        lost = [r for r in caplog.records if "lost its database connection" in r.getMessage()]
        assert lost and all(r.exc_info is None for r in lost)  # one line, no traceback
        incremental = snapshot(container.engines.reader)
        assert len(incremental["audit_log"]) == head
        container.rebuild()
        assert snapshot(container.engines.reader) == incremental
    finally:
        container.close()


def _leader(container: Container) -> str | None:
    with container.engines.reader.connect() as conn:
        row = conn.execute(select(status.c.leader).where(status.c.name == "projector")).first()
    return None if row is None else str(row.leader)


@pytest.mark.postgres
def test_a_killed_leader_is_replaced_and_nothing_is_skipped_or_applied_twice(
    postgres_url: str, tmp_path: Path
) -> None:
    key = new_private_key()
    container = bootstrap(Settings(database_url=postgres_url, signing_key=key))
    container.prepare()
    env = service_env(postgres_url, CRAFTING_SIGNING_KEY=key, CRAFTING_PROJECTOR_BATCH_SIZE="5")
    first = start(["projector"], env, tmp_path / "first.log")
    second = start(["projector"], env, tmp_path / "second.log")
    processes = {first.process.pid: first, second.process.pid: second}
    try:
        org = Org(container.app)
        rng = random.Random(11)
        assert eventually(lambda: _leader(container) is not None, 30)
        random_workload(org, rng, 40)
        leader_pid = int((_leader(container) or ":0").rsplit(":", 1)[1])
        assert leader_pid in processes
        writing = threading.Thread(target=random_workload, args=(org, rng, 80))
        writing.start()
        time.sleep(0.5)
        processes[leader_pid].process.send_signal(signal.SIGKILL)  # mid-batch, likely
        writing.join(timeout=120)
        (survivor,) = [p for pid, p in processes.items() if pid != leader_pid]
        assert eventually(
            lambda: (_leader(container) or "").endswith(f":{survivor.process.pid}"), 30
        ), survivor.output()
        head = container.app.recorder.max_notification_id() or 0
        assert wait_for_position(container.engines.reader, head, timeout=60), survivor.output()
        assert current_position(container.engines.reader) == head
        incremental = snapshot(container.engines.reader)
        assert len(incremental["audit_log"]) == head  # each event once
        container.rebuild()
        assert snapshot(container.engines.reader) == incremental
    finally:
        for process in processes.values():
            process.stop()
        container.close()


class Counting:
    """A dispatcher that counts its calls (as a sender would send)."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def dispatch(self) -> float | None:
        self.calls += 1
        return 0.05


def test_on_sqlite_one_process_leads_each_follower(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/crafting.db"
    first, second = (bootstrap(Settings(database_url=url)) for _ in range(2))
    try:
        first.prepare()
        ones, twos = Counting(), Counting()
        one = first.follower("counted", dispatchers=(ones,))
        two = second.follower("counted", dispatchers=(twos,))
        threads = {one: _run(one)}
        assert eventually(lambda: ones.calls > 3, 10)
        threads[two] = _run(two)
        time.sleep(1)
        assert twos.calls == 0  # the lock file beside the database: one leads
        _stop(one, threads[one])
        assert eventually(lambda: twos.calls > 3, 10)  # and the other takes over
        _stop(two, threads[two])
    finally:
        first.close()
        second.close()
