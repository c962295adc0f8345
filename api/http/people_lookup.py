"""Finding the person a provider token's e-mail address names. E-mail addresses are
sealed in the read model (no index can find one), so this reads the directory the way
SCIM's `emails.value eq` filter does (every visible person, opened) and remembers the
answer for a minute: a person signs in with many requests in a row."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from api.ports import Reads
from projections import directory as d

REMEMBER_SECONDS = 60.0
REMEMBER_AT_MOST = 10_000


class PeopleByEmail:
    def __init__(self, reads: Reads, clock: Callable[[], float] = time.monotonic) -> None:
        self.reads = reads
        self.clock = clock
        self._lock = threading.Lock()
        self._known: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    def __call__(self, email: str) -> str | None:
        """The id of the one person with this address (case-insensitive), or None
        (nobody, erased, or several people: an address must name one person)."""
        wanted = email.strip().lower()
        now = self.clock()
        with self._lock:
            known = self._known.get(wanted)
            if known is not None and now - known[0] < REMEMBER_SECONDS:
                return known[1]
        _, rows = self.reads.run(lambda conn, rm: d.directory_page(conn, rm, None, 0, None))
        matches = [
            r["person_id"]
            for r in rows
            if not r["erased"] and isinstance(r["email"], str) and r["email"].lower() == wanted
        ]
        found = matches[0] if len(matches) == 1 else None
        with self._lock:
            self._known[wanted] = (now, found)
            self._known.move_to_end(wanted)
            while len(self._known) > REMEMBER_AT_MOST:
                self._known.popitem(last=False)
        return found
