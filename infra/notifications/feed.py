"""A person's notifications as the web app shows them: each one's subject and link,
worked out now from the ids the outbox holds (like the mails themselves)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine, Select, func, select, update

from domain.sealing import Keys
from infra.followers import EventTrust
from infra.notifications.compose import Letterhead, agreement_link
from infra.notifications.facts import NotYet, gather
from infra.notifications.tables import SKIPPED, outbox
from infra.notifications.wording import words


@dataclass(frozen=True)
class FeedItem:
    subject: str
    path: str  # inside the web app
    at: float
    unread: bool


def unread_count(reader: Engine, person_id: str) -> int:
    """How many of the person's notifications they have not seen on the page."""
    with reader.connect() as conn:
        return unread_on(conn, person_id)


def unread_on(conn: Connection, person_id: str) -> int:
    """`unread_count` inside a transaction the caller holds (the web session's reads)."""
    return int(conn.execute(unread_query(person_id)).scalar_one())


def unread_query(person_id: str) -> Select[Any]:
    """The count `unread_on` reads, as a select (a caller may read it as a subquery of
    a statement with more in it)."""
    return select(func.count()).where(
        outbox.c.recipient_id == person_id,
        outbox.c.status != SKIPPED,
        outbox.c.read_at.is_(None),
    )


def mark_read(engine: Engine, person_id: str) -> None:
    """Everything shown to the person counts as seen."""
    with engine.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.recipient_id == person_id, outbox.c.read_at.is_(None))
            .values(read_at=time.time())
        )


def feed(
    reader: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    keys: Keys | None,
    trust: EventTrust,
    letterhead: Letterhead,
    person_id: str,
    limit: int = 50,
) -> list[FeedItem]:
    """The person's latest notifications, newest first (none about erased people)."""
    with reader.connect() as conn:
        rows = list(
            conn.execute(
                select(outbox)
                .where(outbox.c.recipient_id == person_id, outbox.c.status != SKIPPED)
                .order_by(outbox.c.id.desc())
                .limit(limit)
            ).all()
        )
    if not rows:
        return []
    batch = gather(rows, recorder, mapper, reader, keys, trust)
    items = []
    for row in rows:
        try:
            found = batch.facts(row)
        except NotYet:
            continue
        if found is None:
            continue
        link = agreement_link(letterhead, row.agreement_id, row.event_type)
        items.append(
            FeedItem(
                words(found[0]).subject,
                link.removeprefix(letterhead.public_url) or "/",
                row.created_at,
                row.read_at is None,
            )
        )
    return items
