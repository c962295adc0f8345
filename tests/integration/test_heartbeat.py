"""Readiness judges a follower by its status row: never started, silent, stuck behind
the log's end, or well."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from infra.bootstrap import Container
from infra.followers.status import beat, failed, read_status
from tests.support import Org

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


def test_a_projector_that_took_the_lead_reports_how_far_behind_it_is(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first heartbeat, before its first batch, said no position: `/readyz` then
    showed a lag of 0 and called it ready while nothing of the log was projected."""
    container.prepare()
    Org(container.app)  # events the projector has not read yet
    head = container.app.recorder.max_notification_id() or 0
    projector = container.projector
    behind = projector.position()
    assert behind is not None and behind < head
    catching_up = threading.Event()
    release = threading.Event()

    def held(after_batch: Callable[[], None] | None = None) -> int:
        catching_up.set()
        release.wait(10)
        return 0

    monkeypatch.setattr(projector, "catch_up", held)
    runner = threading.Thread(target=projector.run)
    runner.start()
    try:
        assert catching_up.wait(10)
        with container.engines.reader.connect() as conn:
            found = read_status(
                conn, "projector", head, max_silent_seconds=10, max_behind_seconds=0
            )
        assert (found.position, found.lag) == (behind, head - behind)
    finally:
        projector.stop()
        release.set()
        runner.join(10)
