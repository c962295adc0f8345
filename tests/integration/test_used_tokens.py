"""Single-use web tokens (infra.used_tokens): of many concurrent uses exactly one wins."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

from sqlalchemy import func, select

from infra.bootstrap import Container
from infra.used_tokens import UsedTokens, used_tokens


def test_concurrent_uses_of_one_token_let_exactly_one_through(container: Container) -> None:
    container.prepare()
    single_use = UsedTokens(container.engines.writer)
    expires = datetime.now(UTC) + timedelta(minutes=10)
    start = Barrier(8)

    def use(_: int) -> bool:
        start.wait()
        return single_use.use("link-1", expires)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(use, range(8)))
    assert outcomes.count(True) == 1
    assert single_use.used("link-1") and not single_use.used("link-2")


def test_expired_ids_are_dropped_as_new_ones_are_used(container: Container) -> None:
    container.prepare()
    single_use = UsedTokens(container.engines.writer)
    assert single_use.use("old", datetime.now(UTC) - timedelta(seconds=1))
    assert single_use.use("new", datetime.now(UTC) + timedelta(minutes=10))
    with container.engines.writer.connect() as conn:
        assert conn.execute(select(func.count()).select_from(used_tokens)).scalar_one() == 1
    assert not single_use.used("old") and single_use.used("new")
