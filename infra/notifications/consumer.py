"""Notifications as a consumer of the shared follower (infra.followers): given a batch
of (position, event) and the follower's open transaction, it plans the batch and
writes the outbox rows and the routes it learned in that same transaction — so each
event is planned exactly once, whatever crashes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.agreement.events import AgreementEvent, Proposed, TaskReallocated
from domain.person import Person
from infra.followers.on_demand import OnDemand
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
        told = load_preferences(conn, dict.keys(directory.people))
        rows = plan(events, directory, told, time.time())
        save_directory(conn, directory)
        queue_rows(conn, rows)


def load_directory(
    conn: Connection,
    items: Sequence[tuple[int, Any]],
    hr_people: frozenset[str],
    also: Iterable[str] = (),
) -> Directory:
    """The routes the planner will ask for: the batch's agreements' owners, the people
    its events name (and `also`), their managers and HR, read in a few statements; any
    other it asks for is read then (infra.followers.on_demand)."""
    people: OnDemand[str, Route] = OnDemand(lambda p: p, partial(_routes_of, conn))
    streams: OnDemand[str, str] = OnDemand(lambda s: s, partial(_streams_of, conn, people))
    directory = Directory(people=people, streams=streams, hr_people=hr_people)
    aids = sorted({str(e.originator_id) for _, e in items if isinstance(e, AgreementEvent)})
    if aids:
        for row in conn.execute(
            select(notify_agreements).where(notify_agreements.c.agreement_id.in_(aids))
        ):
            directory.owners[row.agreement_id] = row.employee_id
    named = set(hr_people) | set(directory.owners.values()) | set(also)
    managers: set[str] = set()
    for _, event in items:
        named.update(_people_named(event))
        profile = getattr(event, "profile", None)
        if profile is not None and profile.manager_id:
            managers.add(profile.manager_id)
    streams.fetch(str(e.originator_id) for _, e in items if isinstance(e, Person.Event))
    people.fetch(named)
    people.fetch(managers | {r.manager_id for r in dict.values(people) if r and r.manager_id})
    return directory


def _people_named(event: Any) -> set[str]:
    """The people an event itself names who may be told of it."""
    if isinstance(event, Proposed):
        return {event.employee_id}
    if isinstance(event, Person.Registered):
        return {event.person_id}
    if isinstance(event, TaskReallocated):
        return {event.reallocation.to_person_id, event.reallocation.from_person_id}
    return set()


def _route(row: Any) -> Route:
    return Route(row.person_id, row.manager_id, row.active, row.erased)


def _routes_of(conn: Connection, person_ids: list[str]) -> dict[str, Route]:
    found = conn.execute(select(notify_people).where(notify_people.c.person_id.in_(person_ids)))
    return {row.person_id: _route(row) for row in found}


def _streams_of(
    conn: Connection, people: OnDemand[str, Route], stream_ids: list[str]
) -> dict[str, str]:
    """Person streams to person ids; their routes come with them (the same rows)."""
    found = conn.execute(select(notify_people).where(notify_people.c.stream_id.in_(stream_ids)))
    streams = {}
    for row in found:
        streams[row.stream_id] = row.person_id
        people.learned(row.person_id, _route(row))
    return streams


def load_preferences(conn: Connection, people: Iterable[str] = ()) -> Preferences:
    """The stored choices of `people` (one row per person and kind they changed), and
    of anyone else asked for, when asked."""
    modes: OnDemand[tuple[str, str], Mode] = OnDemand(lambda key: key[0], partial(_modes_of, conn))
    times: OnDemand[str, tuple[int, str]] = OnDemand(lambda p: p, partial(_times_of, conn))
    wanted = set(people)
    modes.fetch(wanted)
    times.fetch(wanted)
    return Preferences(modes, times)


def _modes_of(conn: Connection, person_ids: list[str]) -> dict[tuple[str, str], Mode]:
    found = conn.execute(select(preferences).where(preferences.c.person_id.in_(person_ids)))
    return {(row.person_id, row.kind): Mode(row.mode) for row in found}


def _times_of(conn: Connection, person_ids: list[str]) -> dict[str, tuple[int, str]]:
    found = conn.execute(select(digest_times).where(digest_times.c.person_id.in_(person_ids)))
    return {row.person_id: (row.hour, row.time_zone) for row in found}


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


def queue_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Queue `rows`; one already queued (same message key) is left as it is. Without
    `insert_rows`' count: a plain executemany (one statement, prepared once), where
    RETURNING made SQLAlchemy write the batch as one multi-row INSERT whose text, new
    for each number of rows and past psycopg's cache, psycopg parsed again every batch
    (a quarter of the follower's CPU under load, bench/follower_load.py --profile)."""
    if rows:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert(outbox).on_conflict_do_nothing(index_elements=["message_key"]), rows)


def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Queue `rows`; one already queued (same message key) is left as it is."""
    if not rows:
        return 0
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(outbox).on_conflict_do_nothing(index_elements=["message_key"]).returning(outbox.c.id)
    )
    return len(conn.execute(statement, rows).all())
