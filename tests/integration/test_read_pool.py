"""The read models' connection pool keeps the connections a load opened (up to its
maximum) instead of closing those above its size at every return."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from infra.database import create_engines
from infra.persistence import PoolSize

pytestmark = pytest.mark.postgres


def test_a_load_above_the_pool_size_reuses_its_connections(postgres_url: str) -> None:
    engines = create_engines(postgres_url, PoolSize(size=1, overflow=2))
    opened: list[object] = []
    event.listen(engines.reader, "connect", lambda *_: opened.append(1))
    try:
        for _ in range(5):  # requests in flight rise to the maximum and fall, five times
            with ExitStack() as held:
                for _ in range(3):
                    conn = held.enter_context(engines.reader.connect())
                    assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert len(opened) == 3  # the maximum, each opened once
        engines.reader.pool._timeout = 0.1  # type: ignore[attr-defined]
        with ExitStack() as held:
            for _ in range(3):
                held.enter_context(engines.reader.connect())
            with pytest.raises(PoolTimeout):  # never more than size + overflow at once
                engines.reader.connect()
    finally:
        engines.dispose()
