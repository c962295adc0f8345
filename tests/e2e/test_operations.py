"""The service as an operator runs it, in real processes: start-up in any order on a
fresh database, dropped connections, a killed projector, a killed supervisor, an
unreachable database."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest

from api.http.auth import mint_token
from domain.values import Role
from infra.bootstrap import bootstrap
from infra.followers.read_models import wait_for_position
from infra.settings import Settings
from tests.processes import (
    children_of,
    eventually,
    free_port,
    get,
    pid_alive,
    running,
    service_env,
    start,
)
from tests.readmodel import snapshot
from tests.support import Org, draft


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A database of its own, dropped at the end (with whatever still connects)."""
    name = f"crafting_ops_{uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path="/" + name, query=""))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _ready(port: int) -> bool:
    return get(f"http://127.0.0.1:{port}/readyz")[0] == 200


@pytest.mark.postgres
@pytest.mark.parametrize("attempt", range(3))
def test_serve_two_projectors_and_demo_started_at_once_on_a_fresh_database_all_come_up(
    postgres_server_url: str, tmp_path: Path, attempt: int
) -> None:
    with fresh_database(postgres_server_url) as url:
        env, port = service_env(url), free_port()
        serve = start(["serve", "--workers", "2", "--port", str(port)], env, tmp_path / "serve")
        projectors = [start(["projector"], env, tmp_path / f"projector{i}") for i in range(2)]
        demo = start(["demo"], env, tmp_path / "demo")
        with running(serve, *projectors, demo):
            assert demo.process.wait(timeout=180) == 0, demo.output()
            assert eventually(lambda: _ready(port), 90), serve.output()
            for process in (serve, *projectors):
                assert process.alive, process.output()


def _terminate_connections(server_url: str, application_name: str) -> int:
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
def test_the_projector_survives_dropped_connections_and_readiness_follows_it(
    postgres_url: str, postgres_server_url: str, tmp_path: Path
) -> None:
    container = bootstrap(Settings(database_url=postgres_url))
    container.prepare()
    service = f"crafting-{uuid4().hex[:8]}"  # the service's connections, by name
    env = service_env(
        postgres_url,
        PGAPPNAME=service,
        CRAFTING_READY_HEARTBEAT_SECONDS="2",
        CRAFTING_PROJECTOR_BATCH_SIZE="20",
    )
    port = free_port()
    serve = start(["serve", "--port", str(port)], env, tmp_path / "serve")
    projector = start(["projector"], env, tmp_path / "projector")
    try:
        with running(serve, projector):
            assert eventually(lambda: _ready(port), 60), serve.output() + projector.output()
            stop = threading.Event()
            errors: list[BaseException] = []

            def write() -> None:
                org = Org(container.app)
                try:
                    while not stop.is_set():
                        org.propose(draft(1))
                except BaseException as error:
                    errors.append(error)

            writers = [threading.Thread(target=write) for _ in range(4)]
            for writer in writers:
                writer.start()
            terminated = 0
            for _ in range(8):  # under load, and again while idle below
                time.sleep(0.4)
                terminated += _terminate_connections(postgres_server_url, service)
            stop.set()
            for writer in writers:
                writer.join(timeout=60)
            assert errors == []
            time.sleep(1.5)
            terminated += _terminate_connections(postgres_server_url, service)
            assert terminated >= 9
            reader = container.engines.reader
            head = container.app.recorder.max_notification_id() or 0
            assert wait_for_position(reader, head, timeout=60), projector.output()
            assert projector.alive, projector.output()
            assert eventually(lambda: _ready(port), 30), get(f"http://127.0.0.1:{port}/readyz")

            projector.stop(signal.SIGKILL)
            assert eventually(lambda: not _ready(port), 15)
            status, body = get(f"http://127.0.0.1:{port}/readyz")
            assert status == 503
            assert "silent" in body["reason"]
            incremental = snapshot(reader)
            container.rebuild()
            assert snapshot(reader) == incremental
            assert len(incremental["audit_log"]) == head

            again = start(["projector"], env, tmp_path / "projector-again")
            with running(again):
                assert eventually(lambda: _ready(port), 60), again.output()
    finally:
        container.close()


def test_serve_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    port = free_port()
    env = service_env(f"sqlite:///{tmp_path}/crafting.db")
    serve = start(["serve", "--workers", "2", "--port", str(port)], env, tmp_path / "serve")
    with running(serve):
        health = f"http://127.0.0.1:{port}/healthz"
        assert eventually(lambda: get(health)[0] == 200, 60), serve.output()
        workers = [
            pid
            for pid in children_of(serve.process.pid)
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert len(workers) == 2
        serve.process.send_signal(signal.SIGKILL)
        serve.process.wait(timeout=10)
        assert eventually(lambda: not any(map(pid_alive, workers)), 20), serve.output()
        assert get(health, timeout=1)[0] == 0


@pytest.mark.postgres
def test_an_unreachable_database_is_reported_in_one_line_with_the_servers_reason(
    postgres_server_url: str, tmp_path: Path
) -> None:
    parts = urlsplit(postgres_server_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    url = f"postgresql://postgres:hunter2-secret@{host}/no_such_db_{uuid4().hex[:6]}"
    began = time.monotonic()
    demo = start(["demo"], service_env(url), tmp_path / "demo")
    assert demo.process.wait(timeout=30) == 1
    assert time.monotonic() - began < 20
    lines = demo.output().strip().splitlines()
    assert len(lines) == 1, lines
    assert "does not exist" in lines[0]
    assert "***" in lines[0]
    assert "hunter2" not in lines[0]


@pytest.mark.postgres
def test_a_serving_process_keeps_only_its_configured_connections(
    postgres_url: str, postgres_server_url: str, tmp_path: Path
) -> None:
    name = f"crafting-{uuid4().hex[:8]}"
    env = service_env(
        postgres_url,
        PGAPPNAME=name,
        CRAFTING_DB_POOL_SIZE="1",
        CRAFTING_DB_MAX_OVERFLOW="0",
        CRAFTING_SERVE_PROJECTIONS="1",
    )
    port = free_port()
    serve = start(["serve", "--port", str(port)], env, tmp_path / "serve")
    with running(serve):
        assert eventually(lambda: _ready(port), 60), serve.output()
        for _ in range(20):
            get(f"http://127.0.0.1:{port}/readyz")
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchone() or (0,)
        # one pooled connection each for the event store and the read models, and the
        # LISTEN connections of the projector, the webhook worker and notifications:
        # 2 x (size + overflow) + 3
        assert 1 <= count <= 5, count


def test_a_chunked_body_without_length_is_held_to_the_size_limit(tmp_path: Path) -> None:
    port, env = free_port(), service_env(f"sqlite:///{tmp_path}/c.db")
    token = mint_token(env["CRAFTING_JWT_SECRET"], "hr", [Role.HR], timedelta(hours=1))
    serve = start(["serve", "--port", str(port)], env, tmp_path / "serve")
    with running(serve):
        assert eventually(lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 60)
        chunk = b"x" * 65_536
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                b"Authorization: Bearer " + token.encode() + b"\r\n\r\n"
            )
            try:
                for _ in range(200):  # 13 MB offered, far past the 1 MB limit
                    conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass  # the server answered and closed while we were still sending
            reply = conn.recv(4096)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert serve.alive
