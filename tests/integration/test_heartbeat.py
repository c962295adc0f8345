"""Readiness judges the projector by its heartbeat: never started, silent, stuck behind
the log's end, or well."""

from __future__ import annotations

from infra.bootstrap import Container
from projections.heartbeat import beat, worker_health

NOW = 1_800_000_000.0


def _health(container: Container, lag: int) -> tuple[bool, str | None]:
    health = worker_health(
        container.engines.reader,
        "projector",
        lag,
        max_silent_seconds=10,
        max_behind_seconds=30,
        now=NOW,
    )
    return health.ready, health.reason


def test_readiness_follows_the_projectors_heartbeat(container: Container) -> None:
    container.prepare()
    engine = container.engines.writer
    assert _health(container, 0) == (False, "no projector worker has run yet")
    beat(engine, "projector", NOW - 2, NOW - 2)
    assert _health(container, 0) == (True, None)
    assert _health(container, 500) == (True, None)  # behind, but only for 2 s
    beat(engine, "projector", NOW - 1, NOW - 45)  # alive, but stuck for 45 s
    assert _health(container, 3) == (False, "the projector worker has been behind the log for 45 s")
    assert _health(container, 0) == (True, None)  # nothing left to do: not behind
    beat(engine, "projector", NOW - 12, NOW - 12)
    assert _health(container, 0) == (False, "the projector worker has been silent for 12 s")
