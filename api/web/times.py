"""Times in the person's own time zone, the zone named: the one they chose on their
settings page, else their browser's (a cookie tz.js sets), else UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from api.ports import InvalidPreference, valid_time_zone

COOKIE = "crafting_tz"  # the browser's zone, as static/web/tz.js reads it
FALLBACK = "UTC"


def browser_zone(cookie: str | None) -> str | None:
    """The browser's zone from its cookie, when it is a zone this machine knows (the
    cookie is the browser's to write: anything else is ignored)."""
    if not cookie:
        return None
    try:
        return valid_time_zone(cookie[:64])
    except InvalidPreference:
        return None


def zone_of(chosen: str | None, cookie: str | None) -> str:
    """The zone to show times in: chosen, else the browser's, else UTC."""
    return chosen or browser_zone(cookie) or FALLBACK


def in_zone(moment: datetime, zone: str) -> datetime:
    """The moment in the zone (a moment without one is UTC: the service records UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(zone))


def local(moment: datetime, zone: str, *, seconds: bool = False) -> str:
    """ "2026-11-24 14:05 CET": the zone's abbreviation where it has one, else its name
    (many zones only have "+03"-style offsets, which name nothing)."""
    shown = in_zone(moment, zone)
    short = shown.strftime("%Z")
    named = short if short and short[0] not in "+-" else zone
    return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " " + named


def naive_in_zone(raw: str, zone: str) -> datetime | None:
    """What someone typed in a date or date-time field, read in their zone (one that
    names its own offset keeps it), as a UTC moment; ValueError if it is not a date or an
    instant."""
    if not raw:
        return None
    found = datetime.fromisoformat(raw)
    aware = found if found.tzinfo is not None else found.replace(tzinfo=ZoneInfo(zone))
    return aware.astimezone(UTC)  # as recorded (SQLite compares the digits, not the zone)
