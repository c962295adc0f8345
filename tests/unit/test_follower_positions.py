"""The consumers' positions (infra/followers/positions.py): read, locked and moved with
statements built once, since every follower does all three in every round."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine

from infra.followers import positions
from infra.followers.tables import metadata


@pytest.fixture
def engine() -> Iterator[Engine]:
    built = create_engine("sqlite://")
    metadata.create_all(built)
    yield built
    built.dispose()


def test_positions_are_read_locked_and_moved_per_consumer(engine: Engine) -> None:
    with engine.begin() as conn:
        assert positions.read(conn, "projector") is None
    positions.ensure(engine, "projector", 5)
    positions.ensure(engine, "webhooks")
    positions.ensure(engine, "projector", 9)  # it has one: left as it is
    with engine.begin() as conn:
        assert positions.read(conn, "projector", lock=True) == 5
        positions.move(conn, "projector", 12)
    with engine.begin() as conn:
        assert positions.read(conn, "projector") == 12
        assert positions.read(conn, "webhooks", lock=True) == 0
    assert positions.current_position(engine, "projector") == 12
    assert positions.wait_for_position(engine, "projector", 12, timeout=0.1)
    assert not positions.wait_for_position(engine, "projector", 13, timeout=0.05)


def test_a_round_builds_no_statement(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    positions.ensure(engine, "projector", 1)

    def built(*_: object) -> None:
        raise AssertionError("a statement built per call")

    monkeypatch.setattr(positions, "select", built)
    monkeypatch.setattr(positions, "update", built)
    with engine.begin() as conn:
        assert positions.read(conn, "projector") == 1
        assert positions.read(conn, "projector", lock=True) == 1
        positions.move(conn, "projector", 2)
    assert positions.current_position(engine, "projector") == 2
