"""Finding the person a provider token's e-mail address names. E-mail addresses are
sealed in the read model (no index can find one), so this reads the directory the way
SCIM's `emails.value eq` filter does (every visible person, opened) and remembers the
answer for a minute: a person signs in with many requests in a row."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from api.http.claim_mapping import AMBIGUOUS, Ambiguous
from api.ports import Reads
from domain.values import email_key
from projections import directory as d

REMEMBER_SECONDS = 60.0
REMEMBER_AT_MOST = 10_000


class PeopleByEmail:
    def __init__(self, reads: Reads, clock: Callable[[], float] = time.monotonic) -> None:
        self.reads = reads
        self.clock = clock
        self._lock = threading.Lock()
        self._known: OrderedDict[str, tuple[float, str | Ambiguous | None]] = OrderedDict()

    def __call__(self, email: str) -> str | Ambiguous | None:
        """The id of the one person with this address, compared as normalised ASCII
        (domain.values.email_key); None (nobody, erased, or not an ASCII address) or
        AMBIGUOUS (several people: an address must name one person)."""
        wanted = email_key(email)
        if wanted is None:
            return None
        now = self.clock()
        with self._lock:
            known = self._known.get(wanted)
            if known is not None and now - known[0] < REMEMBER_SECONDS:
                return known[1]
        _, rows = self.reads.run(lambda conn, rm: d.directory_page(conn, rm, None, 0, None))
        matches = {
            r["person_id"] for r in rows if not r["erased"] and email_key(r["email"]) == wanted
        }
        found: str | Ambiguous | None = None
        if len(matches) > 1:
            found = AMBIGUOUS
        elif matches:
            (found,) = matches
        with self._lock:
            self._known[wanted] = (now, found)
            self._known.move_to_end(wanted)
            while len(self._known) > REMEMBER_AT_MOST:
                self._known.popitem(last=False)
        return found
