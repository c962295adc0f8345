"""The planner: events in, outbox rows out — a pure function of the events, the
directory as of them (who manages whom, who owns which agreement) and the people's
preferences. It never looks at the clock except through `now`, never at an address,
and never tells the actor of an event about their own act."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.agreement.events import (
    AgreementEvent,
    Proposed,
    TaskReallocated,
)
from domain.directory_guard import DeactivationGuard
from domain.person import Person
from domain.values import Role
from infra.notifications.kinds import EVENT_KINDS, REVIEW_OVERDUE, REVIEW_SOON, Kind, Mode
from infra.notifications.tables import DIGEST, IMMEDIATE, PENDING

DEFAULT_DIGEST_HOUR = 8
DEFAULT_TIME_ZONE = "UTC"
_MANAGER_TOO_WHEN_HR = frozenset(
    {"AdjustmentAdded", "ChangeReverted", "Paused", "Resumed", "Completed"}
)
_TO_EMPLOYEE = frozenset({"Approved", "ChangesRequested", "Rejected"}) | _MANAGER_TOO_WHEN_HR
_TO_MANAGER = frozenset({"Proposed", "ProposalRevised"})


@dataclass
class Route:
    """One person as the planner knows them."""

    person_id: str
    manager_id: str | None
    active: bool
    erased: bool = False


@dataclass
class Directory:
    """Who is who as of the planner's position; `changed_*` say what to write back."""

    people: dict[str, Route] = field(default_factory=dict)  # person id -> route
    streams: dict[str, str] = field(default_factory=dict)  # person stream -> person id
    owners: dict[str, str] = field(default_factory=dict)  # agreement id -> employee id
    hr_people: frozenset[str] = frozenset()
    changed_streams: set[str] = field(default_factory=set)
    changed_owners: set[str] = field(default_factory=set)

    def reachable(self, person_id: str | None) -> bool:
        route = self.people.get(person_id or "")
        return route is not None and route.active and not route.erased


@dataclass(frozen=True)
class Preferences:
    """Each person's choice per kind (absent: immediately) and digest time."""

    modes: dict[tuple[str, str], Mode] = field(default_factory=dict)
    digest_times: dict[str, tuple[int, str]] = field(default_factory=dict)

    def mode(self, person_id: str, kind: Kind) -> Mode:
        return self.modes.get((person_id, kind.value), Mode.IMMEDIATE)

    def next_digest_at(self, person_id: str, now: float) -> float:
        """The next time this person's daily digest goes out, after `now`."""
        hour, zone = self.digest_times.get(person_id, (DEFAULT_DIGEST_HOUR, DEFAULT_TIME_ZONE))
        return next_local_hour(now, hour, zone)


def next_local_hour(now: float, hour: int, zone: str) -> float:
    """The first moment after `now` when it is `hour`:00 in `zone` (UTC if unknown)."""
    try:
        tz: Any = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = UTC
    local = datetime.fromtimestamp(now, tz)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at = (at + timedelta(days=1)).replace(hour=hour)
    return at.timestamp()


def recipient_hash(person_id: str) -> str:
    """A short stable stand-in for a person id in Message-IDs."""
    return hashlib.sha256(person_id.encode()).hexdigest()[:16]


def event_message_key(event: Any, recipient_id: str) -> str:
    """The key of one event's message to one person (its Message-ID's left part)."""
    return f"e{event.originator_id.hex}.{event.originator_version}.{recipient_hash(recipient_id)}"


def review_message_key(agreement_id: str, due_on: date, late: bool, recipient_id: str) -> str:
    """The key of one review reminder (before or after the date) to one person."""
    stage = "late" if late else "soon"
    return (
        f"r{agreement_id.replace('-', '')}.{due_on:%Y%m%d}.{stage}.{recipient_hash(recipient_id)}"
    )


def plan(
    items: Sequence[tuple[int, Any]],
    directory: Directory,
    preferences: Preferences,
    now: float,
) -> list[dict[str, Any]]:
    """The outbox rows for these (position, event) pairs, in log order; `directory`
    is brought up to date as the events go by."""
    rows: list[dict[str, Any]] = []
    for position, event in items:
        if isinstance(event, Person.Event):
            subject = _person_event(directory, event)
            if isinstance(event, Person.LegalHoldPlaced):
                for hr in sorted(directory.hr_people):
                    rows += _rows(
                        directory, preferences, event, position, [hr], now, person=subject
                    )
        elif isinstance(event, DeactivationGuard.DeactivationsHeld):
            rows += _rows(directory, preferences, event, position, sorted(directory.hr_people), now)
        elif isinstance(event, AgreementEvent):
            aid = str(event.originator_id)
            if isinstance(event, Proposed):
                directory.owners[aid] = event.employee_id
                directory.changed_owners.add(aid)
            employee = directory.owners.get(aid)
            if employee is None:
                continue  # an agreement from before the planner's routes: nobody to tell
            people = _agreement_recipients(directory, event, employee)
            rows += _rows(
                directory, preferences, event, position, people, now, agreement=aid, person=employee
            )
    return rows


def _agreement_recipients(directory: Directory, event: Any, employee: str) -> list[str]:
    name = type(event).__name__
    manager = directory.people[employee].manager_id if employee in directory.people else None
    if isinstance(event, TaskReallocated):
        return [event.reallocation.to_person_id, event.reallocation.from_person_id]
    if name in _TO_MANAGER:
        return [manager] if manager else []
    if name in _TO_EMPLOYEE:
        told = [employee]
        if name in _MANAGER_TOO_WHEN_HR and event.actor_role == Role.HR and manager:
            told.append(manager)
        return told
    return []


def _person_event(directory: Directory, event: Any) -> str:
    stream = str(event.originator_id)
    if isinstance(event, Person.Registered):
        person = event.person_id
        directory.streams[stream] = person
    elif stream in directory.streams:
        person = directory.streams[stream]
    else:
        return ""  # someone from before the routes were kept: nothing to update
    route = directory.people.get(person)
    if isinstance(event, Person.Registered | Person.ProfileChanged):
        profile = event.profile
        erased = route.erased if route else False
        directory.people[person] = Route(person, profile.manager_id, profile.active, erased)
        directory.changed_streams.add(stream)
    elif isinstance(event, Person.PersonErased) and route is not None:
        route.erased = True
        directory.changed_streams.add(stream)
    return person


def _rows(
    directory: Directory,
    preferences: Preferences,
    event: Any,
    position: int,
    recipients: Iterable[str],
    now: float,
    *,
    agreement: str | None = None,
    person: str | None = None,
) -> list[dict[str, Any]]:
    kind = EVENT_KINDS.get(type(event).__name__)
    if kind is None:
        return []
    rows = []
    seen: set[str] = set()
    for recipient in recipients:
        if recipient in seen or recipient == event.actor_id or not directory.reachable(recipient):
            continue
        seen.add(recipient)
        row = outbox_row(
            preferences,
            kind,
            event_message_key(event, recipient),
            type(event).__name__,
            position,
            recipient,
            now,
            agreement_id=agreement,
            subject_person_id=person,
        )
        if row is not None:
            rows.append(row)
    return rows


def outbox_row(
    preferences: Preferences,
    kind: Kind,
    message_key: str,
    event_type: str,
    position: int,
    recipient: str,
    now: float,
    *,
    agreement_id: str | None = None,
    subject_person_id: str | None = None,
    due_on: date | None = None,
) -> dict[str, Any] | None:
    """One message to one person as their preference for its kind says (None: off)."""
    mode = preferences.mode(recipient, kind)
    if mode == Mode.OFF:
        return None
    digest = mode == Mode.DAILY
    return {
        "message_key": message_key,
        "kind": kind.value,
        "event_type": event_type,
        "position": position,
        "agreement_id": agreement_id,
        "subject_person_id": subject_person_id,
        "recipient_id": recipient,
        "due_on": due_on,
        "delivery": DIGEST if digest else IMMEDIATE,
        "status": PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": preferences.next_digest_at(recipient, now) if digest else now,
    }


@dataclass(frozen=True)
class DueReview:
    agreement_id: str
    employee_id: str
    manager_id: str | None
    next_review_on: date
    position: int


def plan_reminders(
    due: Iterable[DueReview],
    directory: Directory,
    preferences: Preferences,
    today: date,
    days_before: int,
    now: float,
) -> list[dict[str, Any]]:
    """Review reminders for both sides of each agreement: one `days_before` the date
    (or as soon as it is that close), one once it has passed. Keyed by agreement, date
    and stage, so planning them again adds nothing."""
    rows = []
    for review in due:
        late = today > review.next_review_on
        if not late and today < review.next_review_on - timedelta(days=days_before):
            continue
        event_type = REVIEW_OVERDUE if late else REVIEW_SOON
        for recipient in dict.fromkeys([review.employee_id, review.manager_id]):
            if recipient is None or not directory.reachable(recipient):
                continue
            row = outbox_row(
                preferences,
                Kind.REVIEW_DUE,
                review_message_key(review.agreement_id, review.next_review_on, late, recipient),
                event_type,
                review.position,
                recipient,
                now,
                agreement_id=review.agreement_id,
                subject_person_id=review.employee_id,
                due_on=review.next_review_on,
            )
            if row is not None:
                rows.append(row)
    return rows
