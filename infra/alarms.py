"""Alarms: conditions an operator must look at, kept in the database so that every
process shows them (`/readyz` detail and `/metrics` of `serve`, whichever process raised
them: the projector, the webhook worker, a CLI command).

An alarm is a `kind` (what happened, e.g. `event.untagged`), a `subject` (what it
happened to, e.g. `position 3831`) and a `detail` for the operator. Neither subject nor
detail may hold personal data or secrets: positions, stream ids, class names, counts.
At most one alarm is open per (kind, subject): raising it again while it is open changes
nothing, so a follower retrying the same event raises it once. Resolving closes it
(who, when, why); raising it afterwards opens a new one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    RowMapping,
    String,
    Table,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

metadata = MetaData()
# Not a read model (it cannot be rebuilt from the log): a change here is a migration in
# infra/migrations/service (docs/migrations.md).
alarms = Table(
    "crafting_alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("detail", String(1000), nullable=False),
    Column("raised_at", Float, nullable=False),  # seconds since the epoch
    Column("resolved_at", Float),
    Column("resolved_by", String(200)),
    Column("resolution", String(1000)),
    # One open alarm per (kind, subject): the insert of a second one does nothing.
    Index(
        "uq_crafting_alarms_open",
        "kind",
        "subject",
        unique=True,
        sqlite_where=text("resolved_at IS NULL"),
        postgresql_where=text("resolved_at IS NULL"),
    ),
)
KIND_LENGTH, SUBJECT_LENGTH, DETAIL_LENGTH = 64, 200, 1000


@dataclass(frozen=True)
class Alarm:
    """An open (or resolved) alarm."""

    kind: str
    subject: str
    detail: str
    raised_at: float
    resolved_at: float | None = None
    resolved_by: str | None = None
    resolution: str | None = None


def raise_alarm(conn: Connection, kind: str, subject: str, detail: str) -> bool:
    """Open the alarm (kind, subject) unless it is open already; True when this call
    opened it. Written in the caller's transaction: it exists once that commits."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(alarms)
        .values(
            kind=kind[:KIND_LENGTH],
            subject=subject[:SUBJECT_LENGTH],
            detail=detail[:DETAIL_LENGTH],
            raised_at=time.time(),
        )
        .on_conflict_do_nothing()
        .returning(alarms.c.id)
    )
    return conn.execute(statement).first() is not None


def open_alarms(conn: Connection) -> list[Alarm]:
    """Every open alarm, oldest first."""
    rows = conn.execute(
        select(alarms).where(alarms.c.resolved_at.is_(None)).order_by(alarms.c.id)
    ).mappings()
    return [_alarm(row) for row in rows]


def open_alarm_counts(conn: Connection) -> dict[str, int]:
    """How many alarms of each kind are open (for /metrics)."""
    rows = conn.execute(
        select(alarms.c.kind, func.count())
        .where(alarms.c.resolved_at.is_(None))
        .group_by(alarms.c.kind)
    )
    return {kind: int(count) for kind, count in rows}


def resolve_alarm(conn: Connection, kind: str, subject: str, by: str, note: str) -> bool:
    """Close the open alarm (kind, subject), saying who and why; False when none is
    open."""
    result = conn.execute(
        update(alarms)
        .where(alarms.c.kind == kind, alarms.c.subject == subject, alarms.c.resolved_at.is_(None))
        .values(resolved_at=time.time(), resolved_by=by[:200], resolution=note[:DETAIL_LENGTH])
    )
    return result.rowcount > 0


def _alarm(row: RowMapping) -> Alarm:
    values = dict(row)
    values.pop("id", None)
    return Alarm(**values)
