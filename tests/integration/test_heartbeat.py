"""Readiness judges a follower by its status row: never started, silent, stuck behind
the log's end, or well."""

from __future__ import annotations

from infra.bootstrap import Container
from infra.followers.status import beat, failed, read_status

NOW = 1_800_000_000.0


def _health(container: Container, head: int) -> tuple[bool, str | None]:
    with container.engines.reader.connect() as conn:
        status = read_status(
            conn, "projector", head, max_silent_seconds=10, max_behind_seconds=30, now=NOW
        )
    return status.ready, status.reason


def test_readiness_follows_the_projectors_heartbeat(container: Container) -> None:
    container.prepare()
    engine = container.engines.writer
    assert _health(container, 0) == (False, "no projector follower has run yet")
    beat(engine, "projector", NOW - 2, NOW - 2, 100)
    assert _health(container, 100) == (True, None)
    assert _health(container, 600) == (True, None)  # behind, but only for 2 s
    beat(engine, "projector", NOW - 1, NOW - 45, 100)  # alive, but stuck for 45 s
    assert _health(container, 103) == (
        False,
        "the projector follower has been behind the log for 45 s",
    )
    assert _health(container, 100) == (True, None)  # nothing left to do: not behind
    beat(engine, "projector", NOW - 12, NOW - 12, 100)
    failed(engine, "projector", "KeyError at projector.py:120")
    assert _health(container, 100) == (
        False,
        "the projector follower has been silent for 12 s (last error: KeyError at projector.py:120)",
    )
