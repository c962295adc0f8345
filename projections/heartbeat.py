"""Heartbeats of background workers, kept in the database so that every `serve` process
can tell whether the projector (which may run in another process or host) is alive and
keeping up.

A worker that leads writes its row about once a second: `beat_at`, when it last showed
signs of life, and `caught_up_at`, when it last saw the end of the log. Times are the
workers' wall clocks (seconds since the epoch); hosts are expected to keep time (NTP).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Column, Connection, Engine, Float, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from projections.tables import state_metadata

worker_heartbeats = Table(
    "crafting_worker_heartbeats",
    state_metadata,
    Column("worker", String(64), primary_key=True),
    Column("beat_at", Float, nullable=False),
    Column("caught_up_at", Float, nullable=False),
)


def beat(engine: Engine, worker: str, beat_at: float, caught_up_at: float) -> None:
    """Record that `worker` is alive (and when it was last at the end of the log)."""
    values = {"beat_at": beat_at, "caught_up_at": caught_up_at}
    with engine.begin() as conn:
        if _update(conn, worker, values):
            return
    try:
        with engine.begin() as conn:
            conn.execute(insert(worker_heartbeats).values(worker=worker, **values))
    except IntegrityError:  # a worker that took over in between wrote it first
        with engine.begin() as conn:
            _update(conn, worker, values)


def _update(conn: Connection, worker: str, values: dict[str, float]) -> bool:
    result = conn.execute(
        update(worker_heartbeats).where(worker_heartbeats.c.worker == worker).values(**values)
    )
    return result.rowcount > 0


@dataclass(frozen=True)
class WorkerHealth:
    """What readiness needs to know of one worker, as of `now`."""

    ready: bool
    reason: str | None
    silent_seconds: float | None  # since the last heartbeat; None: never beat
    behind_seconds: float  # how long it has been behind the end of the log (0: caught up)


def worker_health(
    engine: Engine,
    worker: str,
    lag_events: int,
    *,
    max_silent_seconds: float,
    max_behind_seconds: float,
    now: float | None = None,
) -> WorkerHealth:
    """Judge a worker: ready unless it never beat, went silent, or has been behind the
    log's end for too long (a stuck batch keeps beating but never catches up)."""
    now = time.time() if now is None else now
    with engine.connect() as conn:
        row = conn.execute(
            select(worker_heartbeats).where(worker_heartbeats.c.worker == worker)
        ).one_or_none()
    if row is None:
        return WorkerHealth(False, f"no {worker} worker has run yet", None, 0.0)
    silent = max(0.0, now - row.beat_at)
    behind = 0.0 if lag_events <= 0 else max(0.0, now - row.caught_up_at)
    if silent > max_silent_seconds:
        reason = f"the {worker} worker has been silent for {silent:.0f} s"
        return WorkerHealth(False, reason, silent, behind)
    if behind > max_behind_seconds:
        reason = f"the {worker} worker has been behind the log for {behind:.0f} s"
        return WorkerHealth(False, reason, silent, behind)
    return WorkerHealth(True, None, silent, behind)
