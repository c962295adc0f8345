"""Read-your-writes for every front door (GraphQL's `consistentWith`, SCIM, the web
app's page after a write): wait until the read models include a position (on the
primary; the request's reads then read from a replica only once it has replayed that
position: infra.read_routing).

Waits happen on the event loop, never in a worker thread: a thread would be held for the
whole wait, and a few dozen waiting requests would then starve every other caller's
reads. One query of the read models' position is in flight at a time, shared by all the
waiters of the process, and each caller may hold only a few waits at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import Engine

from infra import read_routing
from infra.followers.read_models import current_position

TIMEOUT_SECONDS = 5.0
WAITS_PER_CALLER = 4
_FIRST_DELAY, _MAX_DELAY = 0.005, 0.1


def new_request() -> None:
    """Start a request whose reads a wait may constrain (before GraphQL fans out into
    tasks: a wait in one field then holds for every later read of the request)."""
    read_routing.new_request()


class NotYetConsistent(Exception):
    """The read models did not reach the position in time, or the caller already holds
    as many waits as it may (each front door says so in its own way)."""


class ConsistencyWaiter:
    """The read-your-writes waits of one serving process."""

    def __init__(
        self,
        reader: Engine,
        *,
        timeout: float = TIMEOUT_SECONDS,
        waits_per_caller: int = WAITS_PER_CALLER,
    ) -> None:
        self.reader = reader
        self.timeout = timeout
        self.waits_per_caller = waits_per_caller
        self._reached = 0  # the highest position seen processed; it only grows
        self._waits: Counter[str] = Counter()
        self._polling: asyncio.Future[int] | None = None

    async def wait(self, caller: str, position: int) -> None:
        """Return once the read models include `position`; NOT_YET_CONSISTENT when
        they do not within the timeout, or when `caller` already waits too often."""
        if position <= self._reached:
            read_routing.require(position)
            return
        if self._waits[caller] >= self.waits_per_caller:
            raise NotYetConsistent(
                f"At most {self.waits_per_caller} reads of one caller may wait for "
                "consistency at once; retry shortly."
            )
        self._waits[caller] += 1
        try:
            if not await self._until(position):
                raise NotYetConsistent(
                    f"The read models have not reached position {position} yet; retry shortly."
                )
            # The request's reads must see it too, on a replica that has replayed it
            # or on the primary (infra.read_routing).
            read_routing.require(position)
        finally:
            self._waits[caller] -= 1
            if not self._waits[caller]:
                del self._waits[caller]

    async def _until(self, position: int) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        delay = _FIRST_DELAY
        while await self._poll() < position:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_DELAY)
        return True

    async def _poll(self) -> int:
        if self._polling is None or self._polling.done():
            self._polling = asyncio.ensure_future(asyncio.to_thread(current_position, self.reader))
        reached = await asyncio.shield(self._polling)
        self._reached = max(self._reached, reached)
        return self._reached
