"""The consumers' positions: read, locked and moved in the consumer's transaction."""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from infra.followers.tables import positions


def read(conn: Connection, name: str, *, lock: bool = False) -> int | None:
    """The consumer's position (None before its first use); `lock`: FOR UPDATE, so
    concurrent batches of one consumer take turns (SQLite's writers do anyway)."""
    query = select(positions.c.position).where(positions.c.name == name)
    if lock:
        query = query.with_for_update()
    value = conn.execute(query).scalar_one_or_none()
    return None if value is None else int(value)


def move(conn: Connection, name: str, position: int) -> None:
    """Set the consumer's position (in the caller's transaction)."""
    conn.execute(update(positions).where(positions.c.name == name).values(position=position))


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
