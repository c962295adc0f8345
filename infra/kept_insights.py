"""The released insight tables kept between requests, and refreshed behind them.

Reading and releasing every table costs 0.6-1 s at 100,000 people, and the answer is
the same for every request until the read models change. They change only as the
projector moves its position (crafting_follower_positions, moved in the same
transaction as the rows it writes) or a rebuild switches the live generation; and the
tables depend on the request's instant only through its date (today's reviews overdue,
the months listed, this month so far): `asOf` is set to each request's own instant.

So an answer is kept under a token (minimum group, generation, projector position,
date), the position read in the transaction the tables are read in. A request reads
the current token and is answered:
- from the kept answer when its position is the current one (or newer);
- from the kept answer when it is behind by at most `behind_seconds` (it was computed
  that recently) and the request did not ask, with `consistentWith`, for a position
  it lacks; a refresh is then started in the background (one at a time), so on an
  organisation whose tables move every second requests do not each wait for a
  computation, and no answer is older than the read models were `behind_seconds` ago;
- otherwise by a computation it waits for (one at a time: requests arriving during it
  wait and take its result when it suffices).

Erasure: an erased person's texts (target roles, skills) are opened when the tables are
computed. The erasure's event moves the position; with a key store apart from the
events, the key is destroyed right after the event is recorded, so an answer computed
in between would keep the text. An answer is therefore kept past `settle_seconds` (the
key ring's cache time) only if it was computed more than that after its position was
first seen: the same bound as the key ring's own cache. `behind_seconds` is that time
too, so no answer outlives it once its position is superseded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from time import monotonic

from sqlalchemy import Connection

from infra.followers import positions
from infra.followers.read_models import NAME as PROJECTOR
from projections.insights.figures import Insights
from projections.insights.series_kept import ClosedRows
from projections.tables import ReadModel

logger = logging.getLogger(__name__)

# (minimum group, live generation, projector position, date)
Token = tuple[int, int, int, date]
# A computation: the token read in its own transaction, and the tables read in it.
Compute = Callable[[], tuple[Token, Insights]]


def token_of(conn: Connection, rm: ReadModel, minimum: int, now: datetime) -> Token:
    """What the tables read on `conn` now are computed from."""
    return (minimum, rm.generation, positions.read(conn, PROJECTOR) or 0, now.date())


class _Fit(Enum):
    CURRENT = "kept"  # computed at the position asked about, or after it
    BEHIND = "behind"  # recent enough to answer while a refresh runs


@dataclass(frozen=True)
class _Kept:
    token: Token
    insights: Insights
    settled: bool  # computed long enough after its position appeared (module doc)
    computed_at: float


def _in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="insights-refresh", daemon=True).start()


class KeptInsights:
    """The latest released answer of each minimum group size, with its token."""

    def __init__(
        self,
        settle_seconds: float,
        clock: Callable[[], float] | None = None,
        behind_seconds: float | None = None,
        start: Callable[[Callable[[], None]], None] = _in_thread,
        counted: Callable[[str], None] = lambda how: None,
    ):
        self.settle_seconds = settle_seconds
        self.behind_seconds = settle_seconds if behind_seconds is None else behind_seconds
        self.clock = clock  # None: time.monotonic
        self.computed = 0  # how many times the tables were read and released
        self.refreshes = 0  # of them, computed in the background
        self._start = start  # runs a refresh (a daemon thread; tests run it inline)
        # Told how each answer was given ("kept", "behind", "computed") and of each
        # refresh that failed ("refresh_failed"): the service's metrics.
        self.counted = counted
        self._lock = threading.Lock()  # guards the fields below
        self._kept: dict[int, _Kept] = {}
        self._computing: dict[int, threading.Lock] = {}  # one computation per minimum
        self._first_seen: tuple[Token, float] | None = None
        # The closed months' rows read from this database (series_kept.stored_months):
        # they never change, so a computation reads only the open months'.
        self.closed_months: ClosedRows = {}

    def get(
        self, token: Token, now: datetime, compute: Compute, at_least: int | None = None
    ) -> Insights:
        """The released tables as of `now` (`asOf`: `now`) for a request that read
        `token`, computed by `compute` unless a kept answer serves; `at_least`: the
        position a `consistentWith` asked for."""
        minimum = token[0]
        with self._lock:
            at = self._now()
            self._seen(token, at)
            kept = self._kept.get(minimum)
            fit = self._fit(kept, token, at_least, at)
        if kept is not None and fit is _Fit.BEHIND:
            self._refresh(minimum, compute)
        if kept is None or fit is None:
            kept, how = self._waited(token, at_least, compute)
        else:
            how = fit.value
        self.counted(how)
        return replace(kept.insights, as_of=now)

    def _now(self) -> float:
        return (self.clock or monotonic)()

    def _seen(self, token: Token, at: float) -> None:
        if self._first_seen is None or self._first_seen[0] != token:
            self._first_seen = (token, at)

    def _fit(
        self, kept: _Kept | None, token: Token, at_least: int | None, at: float
    ) -> _Fit | None:
        if kept is None:
            return None
        minimum, generation, position, today = kept.token
        if (minimum, generation, today) != (token[0], token[1], token[3]):
            return None
        if not kept.settled and at - kept.computed_at > self.settle_seconds:
            return None  # its texts may be an erased person's (module doc)
        if position >= token[2]:
            return _Fit.CURRENT
        if at_least is not None and position < at_least:
            return None
        return _Fit.BEHIND if at - kept.computed_at <= self.behind_seconds else None

    def _computing_lock(self, minimum: int) -> threading.Lock:
        with self._lock:
            return self._computing.setdefault(minimum, threading.Lock())

    def _waited(self, token: Token, at_least: int | None, compute: Compute) -> tuple[_Kept, str]:
        """Computed for this request, unless the computation it waited for serves it."""
        with self._computing_lock(token[0]):
            with self._lock:
                kept = self._kept.get(token[0])
                if (
                    kept is not None
                    and self._fit(kept, token, at_least, self._now()) is _Fit.CURRENT
                ):
                    return kept, _Fit.CURRENT.value
            return self._computed(compute), "computed"

    def _refresh(self, minimum: int, compute: Compute) -> None:
        """Compute again in the background, unless a computation is under way (its
        answer is at least as new as this request's token)."""
        lock = self._computing_lock(minimum)
        if not lock.acquire(blocking=False):
            return

        def work() -> None:
            try:
                self._computed(compute)
                with self._lock:
                    self.refreshes += 1
            except Exception as error:  # the next request computes; never its text
                logger.warning("the insight tables were not refreshed: %s", type(error).__name__)
                self.counted("refresh_failed")
            finally:
                lock.release()

        try:
            self._start(work)
        except BaseException:
            lock.release()
            raise

    def _computed(self, compute: Compute) -> _Kept:
        started = self._now()
        token, insights = compute()
        with self._lock:
            self._seen(token, started)
            assert self._first_seen is not None
            # Texts were opened from `started` on: settled if the keys then were read
            # after the key ring's cache time had passed since the position appeared.
            settled = started - self._first_seen[1] > self.settle_seconds
            # One computation at a time per minimum: this one read the newest tables.
            kept = self._kept[token[0]] = _Kept(token, insights, settled, started)
            self.computed += 1
        return kept
