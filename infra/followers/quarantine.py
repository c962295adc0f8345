"""Events a consumer could not process, set aside so the events behind them go on.

Quarantining writes the row, raises an alarm and moves the consumer's position past
the event, all in one transaction. Nothing of the event's data is kept: its position,
id (stream and version), type, and what failed (infra.followers.errors.described)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, insert, select, update

from infra.alarms import raise_alarm, resolve_alarm
from infra.followers.tables import quarantine

log = logging.getLogger(__name__)
QUARANTINED = "event.quarantined"
RETRIED, ACKNOWLEDGED = "RETRIED", "ACKNOWLEDGED"


@dataclass(frozen=True)
class Quarantined:
    """One quarantined event."""

    follower: str
    position: int
    event_id: str
    topic: str
    error: str
    quarantined_at: float
    resolved_at: float | None
    resolved_by: str | None
    resolution: str | None
    note: str | None


def subject(follower: str, position: int) -> str:
    """The alarm's subject for a quarantined event."""
    return f"{follower} position {position}"


def put(conn: Connection, follower: str, n: Notification, error: str) -> None:
    """Quarantine the event at `n` for `follower` (once while open) and raise its alarm."""
    open_already = conn.execute(
        select(quarantine.c.id).where(
            quarantine.c.follower == follower,
            quarantine.c.position == n.id,
            quarantine.c.resolved_at.is_(None),
        )
    ).first()
    if open_already is None:
        conn.execute(
            insert(quarantine).values(
                follower=follower,
                position=n.id,
                event_id=f"{n.originator_id}:{n.originator_version}",
                topic=n.topic[:200],
                error=error[:300],
                quarantined_at=time.time(),
            )
        )
    detail = (
        f"{follower} could not process the event at position {n.id} "
        f"({n.topic.rsplit('.', 1)[-1]}): {error}. It went on without it; see "
        "`crafting quarantine list`, then retry or acknowledge it."
    )
    raise_alarm(conn, QUARANTINED, subject(follower, n.id), detail)
    log.error("%s quarantined the event at position %s and went on (%s)", follower, n.id, error)


def listed(conn: Connection, *, include_resolved: bool = False) -> list[Quarantined]:
    """The quarantined events (open ones only, unless `include_resolved`), oldest first."""
    query = select(quarantine).order_by(quarantine.c.id)
    if not include_resolved:
        query = query.where(quarantine.c.resolved_at.is_(None))
    rows = conn.execute(query).mappings()
    return [Quarantined(**{k: v for k, v in row.items() if k != "id"}) for row in rows]


def is_open(conn: Connection, follower: str, position: int) -> bool:
    """Whether the event is quarantined for `follower` and not resolved yet."""
    found = conn.execute(
        select(quarantine.c.id).where(
            quarantine.c.follower == follower,
            quarantine.c.position == position,
            quarantine.c.resolved_at.is_(None),
        )
    ).first()
    return found is not None


def close(
    conn: Connection, follower: str, position: int, resolution: str, by: str, note: str
) -> bool:
    """Mark the quarantined event resolved and resolve its alarm; False if none open."""
    result = conn.execute(
        update(quarantine)
        .where(
            quarantine.c.follower == follower,
            quarantine.c.position == position,
            quarantine.c.resolved_at.is_(None),
        )
        .values(
            resolved_at=time.time(), resolved_by=by[:200], resolution=resolution, note=note[:1000]
        )
    )
    if result.rowcount == 0:
        return False
    resolve_alarm(conn, QUARANTINED, subject(follower, position), by, f"{resolution}: {note}")
    return True
