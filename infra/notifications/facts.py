"""The facts of a batch of outbox rows, read just before sending: the events (by
position, their sealed texts opened), the agreements and the people from the read
models — opened with keys looked up now, so an erasure that happened after the event
shows as erased and the message is not sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Engine, select

from domain.agreement.events import TaskReallocated
from domain.sealing import ERASED, Keys, opened_in
from infra.followers import EventTrust
from infra.notifications.kinds import REVIEW_OVERDUE, REVIEW_SOON
from infra.notifications.wording import Facts
from projections.queries import live_read_model


@dataclass(frozen=True)
class Card:
    """A person as a message may show them."""

    person_id: str
    name: str
    email: str
    active: bool
    erased: bool

    @property
    def reachable(self) -> bool:
        return self.active and not self.erased and ERASED not in (self.email, self.name)


class NotYet(Exception):
    """The read models have not caught up with the message's event yet."""


@dataclass
class BatchFacts:
    events: dict[int, Any]
    agreements: dict[str, dict[str, Any]]
    people: dict[str, Card]

    def facts(self, row: Any) -> tuple[Facts, Card] | None:
        """The facts of one row and its recipient; None when it must not be sent
        (someone erased or gone); NotYet when the read models lag."""
        recipient = self.people.get(row.recipient_id)
        if recipient is None:
            raise NotYet
        if not recipient.reachable:
            return None
        event = None
        if row.event_type not in _REMINDERS:
            event = self.events.get(row.position)
            if event is None:
                return None  # not written by the service: nothing is said of it
        agreement = self.agreements.get(row.agreement_id) if row.agreement_id else None
        if row.agreement_id and agreement is None:
            raise NotYet
        subject = self.people.get(row.subject_person_id) if row.subject_person_id else None
        if row.subject_person_id and subject is None:
            raise NotYet
        if subject is not None and (subject.erased or ERASED in (subject.name,)):
            return None
        actor_name = "Someone"
        if event is not None:
            actor = self.people.get(event.actor_id)
            if actor is not None and actor.reachable:
                actor_name = actor.name
            elif event.actor_role == "HR":
                actor_name = "HR"
        names = {pid: card.name for pid, card in self.people.items() if card.reachable}
        title = agreement["title"] if agreement else None
        facts = Facts(
            event_type=row.event_type,
            recipient_id=row.recipient_id,
            recipient_name=recipient.name,
            actor_name=actor_name,
            employee_id=row.subject_person_id,
            employee_name=subject.name if subject else None,
            title=title,
            reason=getattr(event, "reason", None) if event is not None else None,
            event=event,
            names=names,
            due_on=row.due_on,
            today=datetime.now(UTC).date(),
        )
        return facts, recipient


_REMINDERS = (REVIEW_SOON, REVIEW_OVERDUE)


def gather(
    rows: list[Any],
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    reader: Engine,
    keys: Keys | None,
    trust: EventTrust,
) -> BatchFacts:
    """Read what `rows` need, in a few queries."""
    positions = sorted({r.position for r in rows if r.event_type not in _REMINDERS})
    events: dict[int, Any] = {}
    if positions:
        low, high, wanted_positions = positions[0], positions[-1], set(positions)
        if high - low < 4 * len(positions) + 100:  # close together: one range
            found = recorder.select_notifications(low, high - low + 1, stop=high)
        else:
            found = [n for p in positions for n in recorder.select_notifications(p, 1, stop=p)]
        untrusted = {n.id for n in trust.untrusted(found)}  # altered since it was planned
        for n in found:
            if n.id in wanted_positions and n.id not in untrusted:
                events[n.id] = mapper.to_domain_event(n)
    wanted = {r.recipient_id for r in rows} | {
        r.subject_person_id for r in rows if r.subject_person_id
    }
    for event in events.values():
        wanted.add(event.actor_id)
        if isinstance(event, TaskReallocated):
            wanted |= {event.reallocation.from_person_id, event.reallocation.to_person_id}
    aids = sorted({r.agreement_id for r in rows if r.agreement_id})
    with reader.connect() as conn:
        rm = live_read_model(conn)
        people_rows = [
            dict(p)
            for p in conn.execute(
                select(
                    rm.people.c.person_id,
                    rm.people.c.display_name,
                    rm.people.c.email,
                    rm.people.c.active,
                    rm.people.c.erased,
                ).where(rm.people.c.person_id.in_(sorted(wanted)))
            ).mappings()
        ]
        agreement_rows = (
            [
                dict(a)
                for a in conn.execute(
                    select(
                        rm.agreements.c.agreement_id,
                        rm.agreements.c.title,
                        rm.agreements.c.employee_id,
                    ).where(rm.agreements.c.agreement_id.in_(aids))
                ).mappings()
            ]
            if aids
            else []
        )
    if keys is not None:
        people_rows = opened_in(people_rows, keys)
        agreement_rows = opened_in(agreement_rows, keys)
    people = {
        p["person_id"]: Card(
            p["person_id"], p["display_name"], p["email"], p["active"], p["erased"]
        )
        for p in people_rows
    }
    agreements = {a["agreement_id"]: a for a in agreement_rows}
    return BatchFacts(events, agreements, people)
