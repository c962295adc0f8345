"""Calendar invites for review reminders (iCalendar, RFC 5545)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from icalendar import Calendar, Event


def review_invite(uid: str, due_on: date, summary: str, url: str, now: datetime) -> bytes:
    """An all-day event on the review date, with a stable UID (updates replace it)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Crafting agreements//notifications//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", due_on)
    event.add("summary", summary)
    event.add("description", f"Open the agreement: {url}")
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
