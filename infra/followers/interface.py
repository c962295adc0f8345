"""What plugs into a follower (infra.followers.follower): consumers and dispatchers.

A **consumer** acts on the log's events exactly once. The follower reads its position
(crafting_follower_positions, one row per consumer `name`), fetches the next events,
drops those that do not carry the service's tag (an alarm is raised instead, see
infra.followers.trust), and calls `handle` inside one database transaction that also
moves the position past the batch, with the position's row locked. Whatever `handle`
writes on `conn` therefore commits together with the position or not at all: a crash
anywhere, or another process that moved the position meanwhile, rolls it all back and
the batch is fetched again. `handle` must:

- write only through `conn` (no commits of its own, no other connections);
- do nothing that cannot be rolled back (no HTTP, no SMTP): queue such work in an outbox
  table of its own, keyed so that queuing twice is impossible — e.g. a unique key per
  (event, recipient) — and send it from a dispatcher;
- be deterministic for a given batch: an event it cannot process (a bug, data the
  database refuses) makes the follower retry that event alone, then quarantine it
  (crafting_follower_quarantine, an alarm, `crafting quarantine`) and go on, so one bad
  event never stops the events behind it. Raise; never swallow.

Events come as `(position, event)` pairs in log order; positions are 64-bit integers.
The same batch may be offered again after a rollback, never after a commit.

A **dispatcher** does work that is due now, outside the log's transactions: it sends an
outbox (webhooks, e-mail), seals a checkpoint, erases people past retention. The
follower calls `dispatch()` after each round of consuming, under the same leadership
(only the leader dispatches), backoff, heartbeat and logging. It returns how many
seconds until it next has work (None: nothing scheduled; it is called again when new
events arrive or after the follower's poll interval). Sends must be idempotent by their
key: a leader that dies between a send and writing its outcome leaves it to be sent
again by the next one (at least once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Connection

Item = tuple[int, Any]  # (log position, domain event)


class Consumer(Protocol):
    """Acts on events exactly once, in the follower's transaction."""

    @property
    def name(self) -> str:
        """Its position's row (at most 64 characters, stable forever)."""
        ...

    def handle(self, conn: Connection, events: Sequence[Item]) -> None:
        """Apply `events` (log order) by writing on `conn`; raise when it cannot."""
        ...


class Dispatcher(Protocol):
    """Does what is due now, driven by the follower's loop."""

    @property
    def name(self) -> str:
        """For logs and metrics."""
        ...

    def dispatch(self) -> float | None:
        """Do what is due; the seconds until more is due (None: nothing scheduled)."""
        ...
