"""The released insight tables kept between requests until what they were computed from
changes.

Reading and releasing every table costs 0.6-1 s at 100,000 people, and the answer is
the same for every request until the read models change. They change only as the
projector moves its position (crafting_follower_positions, moved in the same
transaction as the rows it writes) or a rebuild switches the live generation; and the
tables depend on the request's instant only through its date (today's reviews overdue,
the months listed, this month so far): `asOf` is set to each request's own instant.

So the answer is kept per (minimum group, generation, projector position, date). The
position is read on the connection, and in the transaction, the tables are then read
from: a primary or a replica, the token says what that connection saw, and the tables
read after it are at least as new (a result kept under an older token than its tables
is only recomputed once more, never stale). One computation at a time: requests
arriving during it wait and take its result.

Erasure: an erased person's texts (target roles, skills) are opened when the tables are
computed. The erasure's event moves the position, so the next request computes again;
with a key store apart from the events, the key is destroyed right after the event is
recorded, so an answer computed in between would keep the text. An answer is therefore
kept past `keys.cache_seconds` only if it was computed more than that after its
position was first seen: the same bound as the key ring's own cache."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from time import monotonic

from sqlalchemy import Connection

from infra.followers import positions
from infra.followers.read_models import NAME as PROJECTOR
from projections.insights.figures import Insights
from projections.tables import ReadModel

# (minimum group, live generation, projector position, date)
Token = tuple[int, int, int, date]


@dataclass(frozen=True)
class _Kept:
    token: Token
    insights: Insights
    settled: bool  # computed long enough after its position appeared (module doc)
    computed_at: float


class KeptInsights:
    """The latest released answer of each minimum group size, with its token."""

    def __init__(self, settle_seconds: float, clock: Callable[[], float] | None = None):
        self.settle_seconds = settle_seconds
        self.clock = clock  # None: time.monotonic
        self.computed = 0  # how many times the tables were read and released
        self._lock = threading.Lock()
        self._kept: dict[int, _Kept] = {}
        self._first_seen: tuple[Token, float] | None = None

    def get(
        self,
        conn: Connection,
        rm: ReadModel,
        minimum: int,
        now: datetime,
        compute: Callable[[], Insights],
    ) -> Insights:
        """The released tables as of `now` (`asOf`: `now`), computed by `compute` on
        `conn` unless kept under the same token."""
        token = (minimum, rm.generation, positions.read(conn, PROJECTOR) or 0, now.date())
        with self._lock:
            at = (self.clock or monotonic)()
            if self._first_seen is None or self._first_seen[0] != token:
                self._first_seen = (token, at)
            kept = self._kept.get(minimum)
            usable = (
                kept is not None
                and kept.token == token
                and (kept.settled or at - kept.computed_at <= self.settle_seconds)
            )
            if kept is None or not usable:
                # Texts are opened from here on: settled if the keys then were read
                # after the key ring's cache time had passed since the position appeared.
                settled = at - self._first_seen[1] > self.settle_seconds
                kept = self._kept[minimum] = _Kept(token, compute(), settled, at)
                self.computed += 1
        return replace(kept.insights, as_of=now)
