"""The planner: a consumer of the log (the follower `webhooks`) that queues, for each
subscription, the events it asked for — in one transaction with its position, so each
event is queued exactly once per subscription whatever crashes. Subscription events update the
subscriptions table in the same pass, so a subscription receives exactly the events
recorded after its creation, and its filters apply as of each event's position.

It also queues `review.due` reminders (see `queue_reminders`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.agreement.events import AgreementEvent, Proposed
from domain.agreement.lifecycle import REVIEWS_DUE_IN
from domain.person import Person
from domain.webhooks import SubscriptionStatus, WebhookSubscription
from domain.webhooks.rules import REVIEW_DUE, wants
from infra.followers.on_demand import OnDemand
from infra.webhooks.queries import requeue
from infra.webhooks.tables import (
    PENDING,
    agreement_owners,
    outbox,
    person_teams,
    subscriptions,
)
from projections.queries import live_read_model

NAME = "webhooks"
log = logging.getLogger(__name__)
Sub = dict[str, Any]


def event_message_id(event: Any) -> str:
    """`webhook-id` of an event: its stream and version, stable forever."""
    return f"evt_{event.originator_id.hex}_{event.originator_version}"


def review_message_id(agreement_id: str, due_on: date) -> str:
    """`webhook-id` of a reminder: one per agreement and due date."""
    return f"rev_{agreement_id.replace('-', '')}_{due_on:%Y%m%d}"


class WebhookPlanner:
    """The consumer `webhooks`: queues each batch's events for the subscriptions that
    asked for them, in the follower's transaction (infra.followers.interface)."""

    name = NAME

    def handle(self, conn: Connection, events: Sequence[tuple[int, Any]]) -> None:
        """Queue `events` (and keep the subscriptions and routes in step with them)."""
        _Batch(conn, time.time()).plan(events)


def teams_of(conn: Connection, person_ids: list[str]) -> dict[str, str | None]:
    """These people's teams, as the planner last saw them."""
    found = conn.execute(
        select(person_teams.c.person_id, person_teams.c.team_id).where(
            person_teams.c.person_id.in_(person_ids)
        )
    )
    return {row.person_id: row.team_id for row in found}


class _Batch:
    """One batch's plan: the subscriptions and routes it needs, loaded once."""

    def __init__(self, conn: Connection, now: float) -> None:
        self.conn = conn
        self.now = now
        self.subs: dict[str, Sub] = {
            row["subscription_id"]: dict(row)
            for row in conn.execute(
                select(subscriptions).where(subscriptions.c.status != SubscriptionStatus.DELETED)
            ).mappings()
        }
        self.changed: set[str] = set()
        self.created: set[str] = set()
        self.queued: list[dict[str, Any]] = []
        self.owners: dict[str, str] = {}
        # Read as the batch needs them (infra.followers.on_demand), not the whole
        # directory for every command's round.
        self.people: OnDemand[str, str] = OnDemand(lambda s: s, self._streams_of)
        self.new_owners: dict[str, str] = {}  # written at the end of the batch
        self.changed_people: dict[str, str] = {}
        self.teams: OnDemand[str, str | None] = OnDemand(lambda p: p, partial(teams_of, conn))

    def plan(self, items: Sequence[tuple[int, Any]]) -> None:
        self._load_routes([event for _, event in items])
        for position, event in items:
            if isinstance(event, WebhookSubscription.Event):
                self._subscription_event(position, event)
            elif isinstance(event, Person.Event):  # every directory event, holds and erasure too
                person = self._person_event(event)
                self._queue(position, event, self.teams.get(person), person_id=person)
            elif isinstance(event, AgreementEvent):
                aid = str(event.originator_id)
                if isinstance(event, Proposed):
                    self.owners[aid] = event.employee_id
                    self.new_owners[aid] = event.employee_id
                team = self.teams.get(self.owners.get(aid, ""))
                self._queue(position, event, team, agreement_id=aid)
        for sid in self.changed:
            self._write(subscriptions, [self.subs[sid]], update_only=sid not in self.created)
        if self.new_owners:
            owners = [{"agreement_id": a, "employee_id": e} for a, e in self.new_owners.items()]
            self._write(agreement_owners, owners)
        if self.changed_people:
            people = [
                {"stream_id": stream, "person_id": person, "team_id": self.teams[person]}
                for stream, person in self.changed_people.items()
            ]
            self._write(person_teams, people)
        if self.queued:
            self.conn.execute(outbox.insert(), self.queued)

    def _load_routes(self, events: list[Any]) -> None:
        aids = {str(e.originator_id) for e in events if isinstance(e, AgreementEvent)}
        if aids:
            for row in self.conn.execute(
                select(agreement_owners).where(agreement_owners.c.agreement_id.in_(sorted(aids)))
            ):
                self.owners[row.agreement_id] = row.employee_id
        # The new agreements' owners with the known ones: read one by one as each
        # proposal was planned, they were most of a round's statements under load.
        new = (e.employee_id for e in events if isinstance(e, Proposed))
        self.teams.fetch([*self.owners.values(), *new])
        self.people.fetch(str(e.originator_id) for e in events if isinstance(e, Person.Event))

    def _streams_of(self, stream_ids: list[str]) -> dict[str, str]:
        """Person streams to person ids, their teams with them (the same rows)."""
        found = self.conn.execute(
            select(person_teams).where(person_teams.c.stream_id.in_(stream_ids))
        )
        streams = {}
        for row in found:
            streams[row.stream_id] = row.person_id
            self.teams.learned(row.person_id, row.team_id)
        return streams

    def _person_event(self, event: Person.Event) -> str:
        stream = str(event.originator_id)
        person = event.person_id if isinstance(event, Person.Registered) else self.people[stream]
        self.people[stream] = person
        if isinstance(event, Person.Registered | Person.ProfileChanged):
            self.teams[person] = event.profile.team_id
            self.changed_people[stream] = person
        return person

    def _subscription_event(self, position: int, event: Any) -> None:
        sid = str(event.originator_id)
        at = event.timestamp.timestamp()
        if isinstance(event, WebhookSubscription.Created):
            self.subs[sid] = {
                "subscription_id": sid,
                "url": event.url,
                "event_types": list(event.event_types),
                "team_id": event.team_id,
                "owner_id": event.owner_id,
                "role": event.role,
                "status": SubscriptionStatus.ACTIVE.value,
                "status_reason": None,
                "version": event.originator_version,
                "created_position": position,
                "created_at": at,
                "updated_at": at,
            }
            self.created.add(sid)
            self.changed.add(sid)
            return
        sub = self.subs.get(sid)
        if sub is None:
            return
        if isinstance(event, WebhookSubscription.RedeliveryRequested):
            # Everything up to this event is queued already (the log is planned in
            # order); what the range holds after it is queued as it comes.
            queued = requeue(self.conn, sid, event.from_position, event.to_position)
            log.info(
                "redelivery of %s (positions %d-%d): %d messages queued again",
                sid,
                event.from_position,
                event.to_position,
                queued,
            )
        status = {
            WebhookSubscription.Paused: SubscriptionStatus.PAUSED,
            WebhookSubscription.Resumed: SubscriptionStatus.ACTIVE,
            WebhookSubscription.Disabled: SubscriptionStatus.DISABLED,
            WebhookSubscription.Deleted: SubscriptionStatus.DELETED,
        }.get(type(event))
        if status is not None:
            sub["status"] = status.value
            sub["status_reason"] = event.reason
        sub["version"] = event.originator_version
        sub["updated_at"] = at
        self.changed.add(sid)

    def _queue(
        self,
        position: int,
        event: Any,
        team: str | None,
        *,
        agreement_id: str | None = None,
        person_id: str | None = None,
    ) -> None:
        type_name = type(event).__name__
        for sid, sub in self.subs.items():
            if sub["status"] == SubscriptionStatus.DELETED or sub["created_position"] >= position:
                continue
            if not wants(sub["event_types"], type_name):
                continue
            if sub["team_id"] is not None and sub["team_id"] != team:
                continue
            self.queued.append(
                queue_row(
                    sid,
                    event_message_id(event),
                    type_name,
                    position,
                    self.now,
                    agreement_id=agreement_id,
                    person_id=person_id,
                )
            )

    def _write(self, table: Any, rows: list[dict[str, Any]], *, update_only: bool = False) -> None:
        """Upsert `rows` (all of the same columns) by the table's primary key."""
        key = next(iter(table.primary_key.columns)).name
        if update_only:
            for row in rows:
                values = {k: v for k, v in row.items() if k != key}
                self.conn.execute(update(table).where(table.c[key] == row[key]).values(**values))
            return
        statement = _insert(self.conn)(table)
        changed = {k: statement.excluded[k] for k in rows[0] if k != key}
        self.conn.execute(statement.on_conflict_do_update(index_elements=[key], set_=changed), rows)


def queue_row(
    subscription_id: str,
    message_id: str,
    event_type: str,
    position: int,
    now: float,
    *,
    agreement_id: str | None = None,
    person_id: str | None = None,
    due_on: date | None = None,
) -> dict[str, Any]:
    """A new message in a subscription's queue, due now."""
    return {
        "subscription_id": subscription_id,
        "message_id": message_id,
        "event_type": event_type,
        "position": position,
        "agreement_id": agreement_id,
        "person_id": person_id,
        "due_on": due_on,
        "status": PENDING,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def _insert(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def queue_reminders(engine: Engine, reader: Engine, today: date | None = None) -> int:
    """Queue `review.due` for each active agreement whose next review date has arrived,
    for each subscription asking for it (and for the agreement's team) whose creation
    date is on or before that date. The message id is the agreement and the date, and
    the queue holds each message once per subscription: derived from the events (the
    read model) and the date, so repeating it — after a restart too — adds nothing."""
    today = today or datetime.now(UTC).date()
    with engine.connect() as conn:
        subs = [
            dict(row)
            for row in conn.execute(
                select(subscriptions).where(subscriptions.c.status != SubscriptionStatus.DELETED)
            ).mappings()
            if wants(row["event_types"], REVIEW_DUE)
        ]
    if not subs:
        return 0
    with reader.begin() as conn:
        rm = live_read_model(conn)
        due = conn.execute(
            select(
                rm.agreements.c.agreement_id,
                rm.agreements.c.employee_id,
                rm.agreements.c.next_review_on,
                rm.agreements.c.position,
            ).where(
                rm.agreements.c.status == str(REVIEWS_DUE_IN),
                rm.agreements.c.next_review_on <= today,
            )
        ).all()
    if not due:
        return 0
    now = time.time()
    with engine.begin() as conn:
        teams: OnDemand[str, str | None] = OnDemand(lambda p: p, partial(teams_of, conn))
        teams.fetch(agreement.employee_id for agreement in due)
        rows = [
            queue_row(
                sub["subscription_id"],
                review_message_id(agreement.agreement_id, agreement.next_review_on),
                REVIEW_DUE,
                agreement.position,
                now,
                agreement_id=agreement.agreement_id,
                person_id=agreement.employee_id,
                due_on=agreement.next_review_on,
            )
            for sub in subs
            for agreement in due
            if datetime.fromtimestamp(sub["created_at"], UTC).date() <= agreement.next_review_on
            and (sub["team_id"] is None or sub["team_id"] == teams.get(agreement.employee_id))
        ]
        if not rows:
            return 0
        statement = _insert(conn)(outbox).on_conflict_do_nothing(
            index_elements=["subscription_id", "message_id"]
        )
        result = conn.execute(statement, rows)
    return max(result.rowcount, 0)
