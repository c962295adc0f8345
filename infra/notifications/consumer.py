"""Notifications as a consumer of the shared follower (infra.followers): given a batch
of (position, event) and the follower's open transaction, it plans the batch and
writes the outbox rows and the routes it learned in that same transaction — so each
event is planned exactly once, whatever crashes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from infra.notifications.kinds import Mode
from infra.notifications.planner import Directory, Preferences, Route, plan
from infra.notifications.tables import (
    digest_times,
    notify_agreements,
    notify_people,
    outbox,
    preferences,
)

NAME = "notifications"


class NotificationConsumer:
    """Turns events into outbox rows (ids only), in the caller's transaction."""

    name = NAME

    def __init__(self, hr_people: frozenset[str] = frozenset()) -> None:
        self.hr_people = hr_people

    def handle(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        """Plan `events` (only those carrying the service's tag: the follower drops
        the others) on `conn`, the follower's transaction."""
        directory = load_directory(conn, events, self.hr_people)
        rows = plan(events, directory, load_preferences(conn), time.time())
        save_directory(conn, directory)
        insert_rows(conn, rows)


def load_directory(
    conn: Connection, items: Sequence[tuple[int, Any]], hr_people: frozenset[str]
) -> Directory:
    """The routes the planner keeps (people are few next to the log: all of them; the
    owners of the batch's agreements only)."""
    directory = Directory(hr_people=hr_people)
    for row in conn.execute(select(notify_people)):
        directory.streams[row.stream_id] = row.person_id
        directory.people[row.person_id] = Route(
            row.person_id, row.manager_id, row.active, row.erased
        )
    aids = sorted({str(e.originator_id) for _, e in items})
    if aids:
        for row in conn.execute(
            select(notify_agreements).where(notify_agreements.c.agreement_id.in_(aids))
        ):
            directory.owners[row.agreement_id] = row.employee_id
    return directory


def load_preferences(conn: Connection) -> Preferences:
    """Every stored choice (one row per person and kind they changed)."""
    modes = {(row.person_id, row.kind): Mode(row.mode) for row in conn.execute(select(preferences))}
    times = {row.person_id: (row.hour, row.time_zone) for row in conn.execute(select(digest_times))}
    return Preferences(modes, times)


def save_directory(conn: Connection, directory: Directory) -> None:
    """Write back the routes the batch changed."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    if directory.changed_streams:
        rows = []
        for stream in sorted(directory.changed_streams):
            route = directory.people[directory.streams[stream]]
            rows.append(
                {
                    "stream_id": stream,
                    "person_id": route.person_id,
                    "manager_id": route.manager_id,
                    "active": route.active,
                    "erased": route.erased,
                }
            )
        statement = insert(notify_people)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["stream_id"],
                set_={k: statement.excluded[k] for k in ("manager_id", "active", "erased")},
            ),
            rows,
        )
        directory.changed_streams.clear()
    if directory.changed_owners:
        owners = [
            {"agreement_id": a, "employee_id": directory.owners[a]}
            for a in sorted(directory.changed_owners)
        ]
        conn.execute(insert(notify_agreements).on_conflict_do_nothing(), owners)
        directory.changed_owners.clear()


def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Queue `rows`; one already queued (same message key) is left as it is."""
    if not rows:
        return 0
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(outbox).on_conflict_do_nothing(index_elements=["message_key"]).returning(outbox.c.id)
    )
    return len(conn.execute(statement, rows).all())
