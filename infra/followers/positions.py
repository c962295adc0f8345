"""The consumers' positions: read, locked and moved in the consumer's transaction."""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from infra.followers.tables import positions

# Built once: every follower reads and moves its position in every round (a round per
# save when saves are few); building each statement and its cache key anew was ~5% of a
# round's CPU (bench/follower_rounds.py). Parameter names differ from the columns'
# (an UPDATE reserves those).
_READ = select(positions.c.position).where(positions.c.name == bindparam("consumer"))
_READ_LOCKED = _READ.with_for_update()
_MOVE = (
    update(positions)
    .where(positions.c.name == bindparam("consumer"))
    .values(position=bindparam("to_position"))
)


def read(conn: Connection, name: str, *, lock: bool = False) -> int | None:
    """The consumer's position (None before its first use); `lock`: FOR UPDATE, so
    concurrent batches of one consumer take turns (SQLite's writers do anyway)."""
    query = _READ_LOCKED if lock else _READ
    value = conn.execute(query, {"consumer": name}).scalar_one_or_none()
    return None if value is None else int(value)


def move(conn: Connection, name: str, position: int) -> None:
    """Set the consumer's position (in the caller's transaction)."""
    conn.execute(_MOVE, {"consumer": name, "to_position": position})


def ensure(engine: Engine, name: str, start: int = 0) -> None:
    """Give the consumer a position (`start`) unless it has one."""
    with engine.begin() as conn:
        if read(conn, name) is not None:
            return
    try:
        with engine.begin() as conn:
            conn.execute(insert(positions).values(name=name, position=start))
    except IntegrityError:  # another process created it first
        pass


def current_position(engine: Engine, name: str) -> int:
    """The last position the consumer has processed (0 before its first)."""
    with engine.connect() as conn:
        return read(conn, name) or 0


def wait_for_position(engine: Engine, name: str, position: int, timeout: float) -> bool:
    """Wait (bounded) until the consumer reaches `position` (read-your-writes)."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while current_position(engine, name) < position:
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    return True
