"""The released insight tables kept between requests (infra.kept_insights): computed
again when the generation, the minimum or the date changes; when the projector moves,
refreshed behind the requests, which are answered from the kept answer for at most the
key ring's cache time unless they ask (consistentWith) for a newer position; never kept
past the key ring's cache time while a change may still be erasing texts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.kept_insights import KeptInsights, Token
from projections.insights.figures import Insights, ReleasedRow, Table

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
EMPTY = Table((), None)


def _answer(now: datetime, position: int) -> Insights:
    """An answer that says the position it was computed at (as its one row's group)."""
    table = Table((ReleasedRow(str(position), None),), None)
    return Insights(5, now, table, (), EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, EMPTY)


def position_of(answer: Insights) -> int:
    return int(answer.participation.rows[0].group)


class Service:
    """A position and a clock the test moves, and a count of computations; a refresh
    runs inline (before the request's answer returns) unless `refresh_later`."""

    def __init__(self, refresh_later: bool = False) -> None:
        self.position, self.time, self.computed = 7, 0.0, 0
        self.later: list[Callable[[], None]] = []
        start: Callable[[Callable[[], None]], None] = (
            self.later.append if refresh_later else (lambda work: work())
        )
        self.kept = KeptInsights(5.0, clock=lambda: self.time, start=start)

    def ask(
        self,
        now: datetime = NOW,
        generation: int = 1,
        minimum: int = 5,
        at_least: int | None = None,
    ) -> Insights:
        def compute() -> tuple[Token, Insights]:
            self.computed += 1
            return (minimum, generation, self.position, now.date()), _answer(now, self.position)

        token = (minimum, generation, self.position, now.date())
        return self.kept.get(token, now, compute, at_least)


def test_kept_while_nothing_changes_and_as_of_is_each_requests() -> None:
    service = Service()
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
        {"generation": 2},
        {"minimum": 3},
        {"now": NOW + timedelta(days=1)},  # reviews overdue, the months listed
    ],
)
def test_computed_again_for_the_request_when_what_it_depends_on_changes(
    change: dict[str, Any],
) -> None:
    service = Service(refresh_later=True)
    service.ask()
    service.ask(**change)
    assert service.computed == 2 and service.later == []


def test_a_moved_position_is_refreshed_behind_the_request() -> None:
    """The projector moved: the request is answered from the kept answer at once and a
    refresh runs in the background; the next request has the new position's tables."""
    service = Service(refresh_later=True)
    service.ask()
    service.position, service.time = 8, 1.0
    assert position_of(service.ask()) == 7
    assert position_of(service.ask()) == 7  # the refresh is under way: not started twice
    assert (service.computed, len(service.later)) == (1, 1)
    service.later.pop()()
    assert position_of(service.ask()) == 8 and service.computed == 2
    assert service.kept.refreshes == 1


def test_a_request_consistent_with_a_newer_position_waits_for_it() -> None:
    service = Service(refresh_later=True)
    service.ask()
    service.position, service.time = 8, 1.0
    assert position_of(service.ask(at_least=8)) == 8
    assert service.computed == 2 and service.later == []
    # Asking for what the kept answer has is answered from it.
    service.position = 9
    assert position_of(service.ask(at_least=8)) == 8


def test_an_answer_behind_for_longer_than_the_key_cache_time_is_not_served() -> None:
    service = Service(refresh_later=True)
    service.ask()
    service.position, service.time = 8, 5.5  # computed at 0: too old to stand in
    assert position_of(service.ask()) == 8
    assert service.later == []


def test_an_answer_computed_right_after_a_change_expires_with_the_key_cache() -> None:
    """An erased person's key may still be cached (or not yet destroyed) just after the
    erasure's event: that answer is kept no longer than the key ring keeps keys."""
    service = Service()
    service.ask()  # the position first seen now: its texts may be an erased person's
    service.time = 4.0
    service.ask()
    assert service.computed == 1
    service.time = 6.0  # past the key cache: computed again, and now kept
    service.ask()
    service.time = 1000.0
    service.ask()
    assert service.computed == 2


def test_a_failed_refresh_says_so_without_its_message_and_the_next_request_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = Service()
    hows: list[str] = []
    service.kept.counted = hows.append
    service.ask()
    service.position, service.time = 8, 1.0
    fail = True

    def compute() -> tuple[Token, Insights]:
        if fail:
            raise RuntimeError("Priya's target role")
        return (5, 1, 8, NOW.date()), _answer(NOW, 8)

    token = (5, 1, 8, NOW.date())
    assert position_of(service.kept.get(token, NOW, compute)) == 7
    assert "not refreshed: RuntimeError" in caplog.text and "Priya" not in caplog.text
    assert hows == ["computed", "refresh_failed", "behind"]
    fail = False
    assert position_of(service.kept.get(token, NOW, compute)) == 7  # refreshed behind it
    assert position_of(service.kept.get(token, NOW, compute)) == 8


def test_many_requests_while_the_position_moves_get_what_they_asked_for() -> None:
    """Real threads: 8 readers ask, half of them consistent with the position just
    written, while a writer moves the position; refreshes run in real threads. Every
    answer holds what its request asked for and no two computations of one minimum run
    at once; then an answer behind the position is refreshed in a real thread."""
    kept = KeptInsights(5.0)
    position = [1]
    running, overlapped, stop = [0], [False], threading.Event()
    guard = threading.Lock()

    def compute() -> tuple[Token, Insights]:
        with guard:
            running[0] += 1
            overlapped[0] = overlapped[0] or running[0] > 1
            seen = position[0]
        time.sleep(0.01)  # a computation takes a while
        with guard:
            running[0] -= 1
        return (5, 1, seen, NOW.date()), _answer(NOW, seen)

    def writer() -> None:
        while not stop.is_set():
            with guard:
                position[0] += 1
            time.sleep(0.002)

    failures: list[str] = []

    def reader(n: int) -> None:
        for _ in range(40):
            with guard:
                now_at = position[0]
            at_least = now_at if n % 2 else None
            got = position_of(kept.get((5, 1, now_at, NOW.date()), NOW, compute, at_least))
            if at_least is not None and got < at_least:
                failures.append(f"asked for {at_least}, got {got}")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    moving = threading.Thread(target=writer)
    moving.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    moving.join()
    assert failures == [] and not overlapped[0]

    # Whether a reader without consistentWith found the answer behind while no other
    # computation ran is the scheduler's to say (a loaded machine gave none): once the
    # readers are done, one is, and its refresh runs in a real thread.
    def refreshes_done() -> int:
        for thread in threading.enumerate():
            if thread.name == "insights-refresh":
                thread.join(10)
        return kept.refreshes

    before = refreshes_done()
    with guard:
        position[0] += 1
        now_at = position[0]
    assert position_of(kept.get((5, 1, now_at, NOW.date()), NOW, compute)) < now_at
    assert refreshes_done() == before + 1
    assert position_of(kept.get((5, 1, now_at, NOW.date()), NOW, compute)) == now_at
