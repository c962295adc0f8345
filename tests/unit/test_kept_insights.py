"""The released insight tables kept between requests (infra.kept_insights): computed
again when the projector's position, the generation, the minimum or the date changes,
never kept past the key ring's cache time while a change may still be erasing texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from infra import kept_insights
from infra.kept_insights import KeptInsights
from projections.insights.figures import Insights, Table

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
EMPTY = Table((), None)


def _answer(now: datetime) -> Insights:
    return Insights(5, now, EMPTY, (), EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY)


class Service:
    """A position and a clock the test moves, and a count of computations."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.position, self.time, self.computed = 7, 0.0, 0
        monkeypatch.setattr(kept_insights.positions, "read", lambda *_: self.position)
        self.kept = KeptInsights(5.0, clock=lambda: self.time)

    def ask(self, now: datetime = NOW, generation: int = 1, minimum: int = 5) -> Insights:
        def compute() -> Insights:
            self.computed += 1
            return _answer(now)

        rm: Any = SimpleNamespace(generation=generation)
        return self.kept.get(None, rm, minimum, now, compute)  # type: ignore[arg-type]


def test_kept_while_nothing_changes_and_as_of_is_each_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = Service(monkeypatch)
    service.ask()
    service.time = 6.0  # settled: computed past the key cache time (below)
    service.ask()
    service.time = 100.0
    service.ask()
    later = service.ask(NOW + timedelta(hours=3))
    assert service.computed == 2 and later.as_of == NOW + timedelta(hours=3)


@pytest.mark.parametrize(
    "change",
    [
        {"position": 8},
        {"generation": 2},
        {"minimum": 3},
        {"now": NOW + timedelta(days=1)},  # reviews overdue, the months listed
    ],
)
def test_computed_again_when_what_it_depends_on_changes(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, Any]
) -> None:
    service = Service(monkeypatch)
    service.ask()
    service.position = change.pop("position", service.position)
    service.ask(**change)
    assert service.computed == 2


def test_an_answer_computed_right_after_a_change_expires_with_the_key_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An erased person's key may still be cached (or not yet destroyed) just after the
    erasure's event: that answer is kept no longer than the key ring keeps keys."""
    service = Service(monkeypatch)
    service.ask()  # the position first seen now: its texts may be an erased person's
    service.time = 4.0
    service.ask()
    assert service.computed == 1
    service.time = 6.0  # past the key cache: computed again, and now kept
    service.ask()
    service.time = 1000.0
    service.ask()
    assert service.computed == 2
