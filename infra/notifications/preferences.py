"""Each person's choices: per kind immediately, in a daily digest, or off; and the hour
and time zone of their digest. Unsubscribe links turn one kind off."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Connection, Engine, Select, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from infra.notifications.kinds import Kind, Mode
from infra.notifications.planner import DEFAULT_DIGEST_HOUR, DEFAULT_TIME_ZONE, next_local_hour
from infra.notifications.tables import DIGEST, IMMEDIATE, PENDING, digest_times, outbox, preferences


class InvalidPreference(ValueError):
    """A choice that does not exist (said in the page's words)."""


@dataclass(frozen=True)
class Choices:
    modes: dict[Kind, Mode]
    hour: int
    time_zone: str


def choices_of(engine: Engine, person_id: str) -> Choices:
    """What the person chose (immediately for every kind they never changed)."""
    with engine.connect() as conn:
        modes = {kind: Mode.IMMEDIATE for kind in Kind}
        for row in conn.execute(select(preferences).where(preferences.c.person_id == person_id)):
            if row.kind in Kind._value2member_map_:
                modes[Kind(row.kind)] = Mode(row.mode)
        found = conn.execute(
            select(digest_times).where(digest_times.c.person_id == person_id)
        ).first()
    if found is None:
        return Choices(modes, DEFAULT_DIGEST_HOUR, DEFAULT_TIME_ZONE)
    return Choices(modes, found.hour, found.time_zone)


def saved_time_zone(engine: Engine, person_id: str) -> str | None:
    """The time zone the person chose on their settings page (None: never chose one;
    the web app then shows times in their browser's zone)."""
    with engine.connect() as conn:
        return time_zone_on(conn, person_id)


def time_zone_on(conn: Connection, person_id: str) -> str | None:
    """`saved_time_zone` inside a transaction the caller holds (the web session's reads)."""
    found = conn.execute(time_zone_query(person_id)).scalar()
    return None if found is None else str(found)


def time_zone_query(person_id: str) -> Select[Any]:
    """The chosen zone `time_zone_on` reads, as a select (no row: none chosen)."""
    return select(digest_times.c.time_zone).where(digest_times.c.person_id == person_id)


@cache
def time_zones() -> list[str]:
    """The IANA time zones this machine knows, sorted (for the settings page)."""
    return sorted(available_timezones())


def valid_time_zone(name: str) -> str:
    """An IANA time zone name, or InvalidPreference."""
    name = name.strip()
    if not name or len(name) > 64 or (name not in time_zones() and name != "UTC"):
        raise InvalidPreference("Choose a time zone from the list, such as Europe/Berlin.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidPreference(
            "Choose a time zone from the list, such as Europe/Berlin."
        ) from None
    return name


def save_choices(engine: Engine, person_id: str, choices: Choices) -> None:
    """Store the person's choices; messages already waiting follow them (off: dropped;
    digest: held for the next digest; immediately: sent now)."""
    if not 0 <= choices.hour <= 23:
        raise InvalidPreference("Choose an hour between 0 and 23.")
    zone = valid_time_zone(choices.time_zone)
    with engine.begin() as conn:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        for kind, mode in choices.modes.items():
            _set_mode(conn, insert, person_id, kind, mode)
        statement = insert(digest_times).values(
            person_id=person_id, hour=choices.hour, time_zone=zone
        )
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["person_id"], set_={"hour": choices.hour, "time_zone": zone}
            )
        )
        _requeue(conn, person_id, choices.modes, next_local_hour(_now(), choices.hour, zone))


def turn_off(engine: Engine, person_id: str, kind: Kind) -> None:
    """Stop one kind for one person (the unsubscribe link)."""
    with engine.begin() as conn:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        _set_mode(conn, insert, person_id, kind, Mode.OFF)
        _requeue(conn, person_id, {kind: Mode.OFF}, 0.0)


def _set_mode(conn: Connection, insert: Any, person_id: str, kind: Kind, mode: Mode) -> None:
    if mode == Mode.IMMEDIATE:
        conn.execute(
            delete(preferences).where(
                preferences.c.person_id == person_id, preferences.c.kind == kind.value
            )
        )
        return
    statement = insert(preferences).values(person_id=person_id, kind=kind.value, mode=mode.value)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["person_id", "kind"], set_={"mode": mode.value}
        )
    )


def _requeue(conn: Connection, person_id: str, modes: dict[Kind, Mode], digest_at: float) -> None:
    for kind, mode in modes.items():
        waiting = (
            outbox.c.recipient_id == person_id,
            outbox.c.kind == kind.value,
            outbox.c.status == PENDING,
        )
        if mode == Mode.OFF:
            conn.execute(
                update(outbox).where(*waiting).values(status="SKIPPED", last_error="turned off")
            )
        elif mode == Mode.DAILY:
            conn.execute(
                update(outbox)
                .where(*waiting, outbox.c.delivery == IMMEDIATE)
                .values(delivery=DIGEST, next_attempt_at=digest_at)
            )
        else:
            conn.execute(
                update(outbox)
                .where(*waiting, outbox.c.delivery == DIGEST)
                .values(delivery=IMMEDIATE, next_attempt_at=_now())
            )


def _now() -> float:
    return time.time()
