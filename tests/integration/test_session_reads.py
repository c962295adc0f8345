"""Where a web page's session reads go (api.ports.Sessions, Reads.run_beside): whether
it was signed out, and the person's notifications and time zone, on the primary
always; the header's read-model query in the same transaction while no replica is in
rotation, else on the replica (infra.read_routing), as every read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

from api.ports import Reads, Sessions
from infra.bootstrap import Container, bootstrap
from infra.database import create_engines
from infra.read_routing import ReadRouter
from infra.settings import Settings
from infra.used_tokens import UsedTokens
from projections.tables import ReadModel


@pytest.fixture
def service(prepared_database_url: str) -> Iterator[Container]:
    built = bootstrap(Settings(database_url=prepared_database_url, jwt_secret=None))
    yield built
    built.close()


@pytest.fixture
def replica(prepared_database_url: str) -> Iterator[Engine]:
    """A second engine on the same database, standing in for a streaming replica."""
    engines = create_engines(prepared_database_url)
    yield engines.reader
    engines.dispose()


def _reads(service: Container, router: ReadRouter | None = None) -> Reads:
    return Reads(service.engines.reader, 4.0, compiled=False, keys=service.keys, router=router)


def _in_rotation(service: Container, replica: Engine) -> ReadRouter:
    router = ReadRouter(service.engines.reader, [("replica:5432/db", replica)], max_lag_seconds=5)
    router.replicas[0].in_rotation = True  # as a check would find it
    return router


def _header(conn: Connection, rm: ReadModel) -> Engine:
    """Where the header's query ran (`Reads` read the live generation there first)."""
    return conn.engine


def test_without_a_replica_the_primary_reads_and_the_query_share_one_transaction(
    service: Container,
) -> None:
    seen: list[Connection] = []

    def primary(conn: Connection) -> str:
        seen.append(conn)
        return "primary"

    def query(conn: Connection, rm: ReadModel) -> str:
        seen.append(conn)
        return "query"

    assert _reads(service).run_beside(primary, query) == ("primary", "query")
    assert len(seen) == 2 and seen[0] is seen[1]
    assert seen[0].engine is service.engines.reader


def test_with_a_replica_in_rotation_only_the_query_goes_there(
    service: Container, replica: Engine
) -> None:
    router = _in_rotation(service, replica)
    on_primary, on_replica = _reads(service, router).run_beside(lambda conn: conn.engine, _header)
    assert on_primary is service.engines.reader
    assert on_replica is replica
    (status,) = router.status()
    assert status.reads == 1 and router.primary_reads == 0


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)


def test_a_session_is_checked_on_the_primary_and_its_header_read_on_the_replica(
    service: Container, replica: Engine
) -> None:
    sessions = Sessions(_reads(service, _in_rotation(service, replica)))
    with _statements(replica) as on_replica:
        found = sessions.check("session-1", "pat", _header)
        assert found is not None
        facts, header_engine = found
        assert (facts.unread, facts.time_zone) == (0, None)
        assert header_engine is replica
        # Signed out: seen at once on the primary, whatever the replica has replayed.
        used = datetime.now(UTC) + timedelta(hours=1)
        UsedTokens(service.engines.writer).use("session-1", used)
        assert sessions.check("session-1", "pat", _header) is None
    assert on_replica  # the header's query ran there …
    primary_only = ("web_used_tokens", "crafting_notify_outbox", "crafting_notify_digest_times")
    assert not any(table in sql for sql in on_replica for table in primary_only)  # … nothing else


def test_a_signed_out_session_runs_no_header_query(service: Container) -> None:
    UsedTokens(service.engines.writer).use("gone", datetime.now(UTC) + timedelta(hours=1))
    ran: list[str] = []

    def header(conn: Connection, rm: ReadModel) -> None:
        ran.append("header")

    assert Sessions(_reads(service)).check("gone", "pat", header) is None
    assert ran == []
