"""How a follower's status row is judged (infra/followers/status.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, insert

from api.http.followers import Report, readiness_body
from infra.followers.status import read_status
from infra.followers.tables import metadata, status

NOW = 1_000_000.0


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection


def _row(conn: Connection, **values: object) -> None:
    row = {"name": "webhooks", "leader": "here", "position": 10, "last_error": None}
    conn.execute(insert(status).values(**(row | values)))


def _judge(conn: Connection) -> tuple[bool, str | None]:
    found = read_status(
        conn, "webhooks", 10, max_silent_seconds=30, max_behind_seconds=300, now=NOW
    )
    return found.ready, found.reason


def test_a_follower_failing_every_round_stays_red_though_each_retry_beats(
    conn: Connection,
) -> None:
    # Each retry takes the lead again and beats; the last good round was a minute ago.
    _row(
        conn,
        beat_at=NOW - 1,
        caught_up_at=NOW - 60,
        last_error="RuntimeError at x.py:1",
        last_error_at=NOW - 2,
    )
    ready, reason = _judge(conn)
    assert not ready
    assert reason is not None and "silent for 60 s" in reason and "RuntimeError" in reason


def test_a_follower_that_went_on_after_an_error_is_ready(conn: Connection) -> None:
    _row(
        conn,
        beat_at=NOW - 1,
        caught_up_at=NOW - 1,
        last_error="RuntimeError at x.py:1",
        last_error_at=NOW - 90,
    )
    assert _judge(conn) == (True, None)


def test_readyz_shows_no_projection_lag_before_the_projector_said_where_it_is(
    conn: Connection,
) -> None:
    never_ran = read_status(conn, "projector", 50, max_silent_seconds=30, max_behind_seconds=300)
    body = readiness_body(Report([never_ran], [never_ran], []))
    assert body["status"] == "unavailable"
    assert body["projection_lag"] is None  # it said 0: caught up, before it had begun
