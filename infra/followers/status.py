"""Each follower's status row: its leader's heartbeat, how far it is, its last error.

Every process reads them (`/readyz`, `/metrics`), whichever process leads."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from infra.followers.tables import status

LEADER = f"{socket.gethostname()}:{os.getpid()}"[:200]


def beat(
    engine: Engine, name: str, beat_at: float, caught_up_at: float, position: int | None
) -> None:
    """Record that the follower's leader (this process) is alive and how far it is
    (the last error stays, with its time, for operators to see)."""
    values = {
        "leader": LEADER,
        "beat_at": beat_at,
        "caught_up_at": caught_up_at,
        "position": position,
    }
    _write(engine, name, values)


def failed(engine: Engine, name: str, error: str) -> None:
    """Record the follower's last error (best effort: the database may be the error)."""
    try:
        with engine.begin() as conn:
            conn.execute(
                update(status)
                .where(status.c.name == name)
                .values(last_error=error[:300], last_error_at=time.time())
            )
    except Exception:  # noqa: S110 - the failure itself is logged by the follower
        pass


def _write(engine: Engine, name: str, values: dict[str, object]) -> None:
    with engine.begin() as conn:
        if conn.execute(update(status).where(status.c.name == name).values(**values)).rowcount:
            return
    try:
        with engine.begin() as conn:
            conn.execute(insert(status).values(name=name, **values))
    except IntegrityError:  # a leader that took over in between wrote it first
        with engine.begin() as conn:
            conn.execute(update(status).where(status.c.name == name).values(**values))


@dataclass(frozen=True)
class FollowerStatus:
    """A follower as its status row says, judged as of `now`."""

    name: str
    leader: str | None
    position: int | None
    lag: int | None  # events behind the log's end (None: no consumer)
    silent_seconds: float | None  # since the last heartbeat; None: never beat
    behind_seconds: float  # how long it has been behind the log's end (0: caught up)
    last_error: str | None
    ready: bool
    reason: str | None


def read_status(
    conn: Connection,
    name: str,
    head: int,
    *,
    max_silent_seconds: float,
    max_behind_seconds: float,
    now: float | None = None,
) -> FollowerStatus:
    """Judge a follower: ready unless it never beat, went silent (a leader failing
    every round beats no more), or has been behind the log's end for too long (a stuck
    batch keeps beating but never catches up)."""
    now = time.time() if now is None else now
    row = conn.execute(select(status).where(status.c.name == name)).one_or_none()
    if row is None:
        return FollowerStatus(
            name, None, None, None, None, 0.0, None, False, f"no {name} follower has run yet"
        )
    lag = None if row.position is None else max(0, head - int(row.position))
    last_sign_of_life = row.beat_at
    if row.last_error_at is not None and row.last_error_at > row.caught_up_at:
        # Failing since its last good round: the beat of each retry (taking the lead
        # again) shows the process, not the follower, is alive; judged from the last
        # good round, a follower failing every round stays red instead of flapping.
        last_sign_of_life = min(row.beat_at, row.caught_up_at)
    silent = max(0.0, now - last_sign_of_life)
    behind = 0.0 if not lag else max(0.0, now - row.caught_up_at)
    reason = None
    if silent > max_silent_seconds:
        reason = f"the {name} follower has been silent for {silent:.0f} s"
        if row.last_error:
            reason += f" (last error: {row.last_error})"
    elif behind > max_behind_seconds:
        reason = f"the {name} follower has been behind the log for {behind:.0f} s"
    position = None if row.position is None else int(row.position)
    return FollowerStatus(
        name, row.leader, position, lag, silent, behind, row.last_error, reason is None, reason
    )
