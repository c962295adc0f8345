"""Per-caller rate limits: a token bucket per caller (the token's `sub`), so a runaway
client gets 429s with `Retry-After` instead of starving everyone else.

The buckets live in each serving process: with `--workers N` a caller may get up to N
times the rate in all (documented in the README)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

MAX_TRACKED_CALLERS = 10_000


class RateLimiter:
    """`per_second` requests sustained, bursts of up to `burst`; 0 turns it off."""

    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, at)
        self._lock = threading.Lock()

    def retry_after(self, caller: str) -> int:
        """Take one request from the caller's bucket: 0 when allowed, otherwise the
        whole seconds to wait before the next one will be."""
        if self.per_second <= 0:
            return 0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(caller, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
            if tokens >= 1:
                self._buckets[caller] = (tokens - 1, now)
                self._forget_idle(now)
                return 0
            self._buckets[caller] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.per_second))

    def _forget_idle(self, now: float) -> None:
        # Callers whose bucket has refilled are the same as unknown ones: drop them,
        # so the table stays small however many callers come and go.
        if len(self._buckets) <= MAX_TRACKED_CALLERS:
            return
        full = self.burst / self.per_second
        self._buckets = {c: v for c, v in self._buckets.items() if now - v[1] < full}
