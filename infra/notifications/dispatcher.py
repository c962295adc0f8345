"""The dispatcher: sends what the outbox holds when it is due, builds each message
at that moment (facts.py), and writes what happened. Nothing is lost: a message is
marked sent only after the server accepted it, so a crash in between sends it again —
with the same Message-ID. A server that is down leaves every message waiting, retried
with growing pauses; a 5xx for an address marks it bounced and stops its retries."""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper
from jinja2 import Environment
from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.sealing import ERASED, Keys
from infra.followers import EventTrust
from infra.keystore import KeyRing
from infra.notifications.compose import (
    Letterhead,
    agreement_link,
    compose,
    compose_digest,
    environment,
)
from infra.notifications.facts import BatchFacts, NotYet, gather
from infra.notifications.kinds import Kind, Mode
from infra.notifications.planner import recipient_hash
from infra.notifications.tables import (
    BOUNCED,
    DIGEST,
    IMMEDIATE,
    PENDING,
    SENT,
    SKIPPED,
    bounces,
    outbox,
    preferences,
)
from infra.notifications.transport import Outcome, Result, ServerUnavailable, Transport
from infra.notifications.wording import words

log = logging.getLogger(__name__)
WRITE_EVERY = 20
NOT_YET_SECONDS = 1.0


@dataclass(frozen=True)
class DispatchConfig:
    retry_min_seconds: float = 5
    retry_max_seconds: float = 1800
    batch: int = 200
    connections: int = 4  # SMTP sessions at once

    def backoff(self, attempts: int) -> float:
        """Doubling from the minimum to the maximum, with jitter (half to all of it)."""
        ceiling = min(self.retry_max_seconds, self.retry_min_seconds * 2 ** (attempts - 1))
        return float(ceiling * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        reader: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        keys: Keys | None,
        trust: EventTrust,
        transport: Transport,
        letterhead: Letterhead,
        config: DispatchConfig,
        *,
        stopping: threading.Event | None = None,
    ) -> None:
        self.engine, self.reader = engine, reader
        self.recorder, self.mapper, self.keys = recorder, mapper, keys
        self.trust = trust
        self.transport = transport
        self.letterhead = letterhead
        self.config = config
        self.stopping = stopping or threading.Event()
        self.env: Environment = environment()

    def dispatch(self) -> int:
        """Send what is due (messages, then digests); the number of mails sent."""
        sent = self._immediate()
        return sent + self._digests()

    def forget_keys(self) -> None:
        """Keys are kept for one batch at most: an erasure is seen by the next."""
        if isinstance(self.keys, KeyRing):
            self.keys.forget_all()

    def _due(self, delivery: str, now: float) -> list[Any]:
        with self.reader.connect() as conn:
            return list(
                conn.execute(
                    select(outbox)
                    .where(
                        outbox.c.status == PENDING,
                        outbox.c.delivery == delivery,
                        outbox.c.next_attempt_at <= now,
                    )
                    .order_by(outbox.c.id)
                    .limit(self.config.batch)
                ).all()
            )

    def _immediate(self) -> int:
        rows = self._due(IMMEDIATE, time.time())
        if not rows:
            return 0
        self.forget_keys()
        batch = gather(rows, self.recorder, self.mapper, self.reader, self.keys, self.trust)
        offs = self._offs({r.recipient_id for r in rows})
        bounced = self._bounced({r.recipient_id for r in rows})
        lanes = max(1, min(self.config.connections, len(rows) // WRITE_EVERY + 1))
        if lanes == 1:
            return self._lane(rows, batch, offs, bounced)
        # Several SMTP sessions at once: a relay answers each command after a round
        # trip, and mail has no order to keep.
        with ThreadPoolExecutor(lanes, thread_name_prefix="mail") as pool:
            return sum(
                pool.map(lambda i: self._lane(rows[i::lanes], batch, offs, bounced), range(lanes))
            )

    def _lane(
        self,
        rows: list[Any],
        batch: BatchFacts,
        offs: set[tuple[str, str]],
        bounced: dict[str, set[str]],
    ) -> int:
        """Send `rows` in order over one SMTP session; outcomes are written every
        WRITE_EVERY messages (a crash in between sends those again, same Message-ID)."""
        outcomes: list[dict[str, Any]] = []
        written = sent = 0
        connection = None
        try:
            for index, row in enumerate(rows):
                if self.stopping.is_set():
                    break
                now = time.time()
                if (row.recipient_id, row.kind) in offs:
                    outcomes.append(_skipped(row, now, "turned off"))
                    continue
                try:
                    prepared = self._prepare(row, batch)
                except Exception:  # one message that cannot be built holds up no other
                    log.exception("notification %s could not be built; skipped", row.id)
                    outcomes.append(_skipped(row, now, "could not be built"))
                    continue
                if prepared is None or isinstance(prepared, str):
                    outcomes.append(
                        _deferred(row, now)
                        if prepared == "later"
                        else _skipped(row, now, "erased or inactive")
                    )
                    continue
                message, address = prepared
                if _address_hash(self.letterhead.link_key, address) in bounced.get(
                    row.recipient_id, ()
                ):
                    outcomes.append(_skipped(row, now, "address bounced"))
                    continue
                try:
                    if connection is None:
                        connection = self.transport.open()
                    result = connection.send(message, address)
                except ServerUnavailable as error:
                    connection = None
                    outcomes += [self._failed(r, now, str(error)) for r in rows[index:]]
                    log.warning(
                        "mail server unavailable: %s; %d messages wait", error, len(rows) - index
                    )
                    break
                outcomes.append(self._result(row, result, now, address))
                sent += result.outcome == Outcome.SENT
                if len(outcomes) - written >= WRITE_EVERY:
                    self._write(outcomes[written:])
                    written = len(outcomes)
        finally:
            if connection is not None:
                connection.close()
            self._write(outcomes[written:])
        return sent

    def _prepare(self, row: Any, batch: BatchFacts) -> tuple[Any, str] | str | None:
        try:
            found = batch.facts(row)
        except NotYet:
            return "later"
        if found is None:
            return None
        facts, card = found
        message = compose(
            self.env,
            self.letterhead,
            facts,
            to_address=card.email,
            message_key=row.message_key,
            agreement_id=row.agreement_id,
            kind=Kind(row.kind),
        )
        body = message.get_body(("plain",))
        if body is not None and ERASED in body.get_content():
            return None  # someone's text was erased since: nothing personal is sent
        return message, card.email

    def _result(self, row: Any, result: Result, now: float, address: str) -> dict[str, Any]:
        base = {"row_id": row.id, "attempts": row.attempts + 1, "last_error": result.error}
        if result.outcome == Outcome.SENT:
            return base | {"status": SENT, "sent_at": now, "next_attempt_at": row.next_attempt_at}
        if result.outcome == Outcome.BOUNCED:
            self._mark_bounced(row.recipient_id, address, now)
            return base | {
                "status": BOUNCED,
                "sent_at": None,
                "next_attempt_at": row.next_attempt_at,
            }
        return base | {
            "status": PENDING,
            "sent_at": None,
            "next_attempt_at": now + self.config.backoff(row.attempts + 1),
        }

    def _failed(self, row: Any, now: float, error: str) -> dict[str, Any]:
        return {
            "row_id": row.id,
            "attempts": row.attempts + 1,
            "last_error": error[:200],
            "status": PENDING,
            "sent_at": None,
            "next_attempt_at": now + self.config.backoff(row.attempts + 1),
        }

    def _write(self, outcomes: list[dict[str, Any]]) -> None:
        if not outcomes:
            return
        statement = (
            update(outbox)
            .where(outbox.c.id == bindparam("row_id"), outbox.c.status == PENDING)
            .values(
                status=bindparam("status"),
                attempts=bindparam("attempts"),
                last_error=bindparam("last_error"),
                sent_at=bindparam("sent_at"),
                next_attempt_at=bindparam("next_attempt_at"),
            )
        )
        with self.engine.begin() as conn:
            conn.execute(statement, outcomes)

    def _offs(self, people: set[str]) -> set[tuple[str, str]]:
        with self.reader.connect() as conn:
            return {
                (r.person_id, r.kind)
                for r in conn.execute(
                    select(preferences.c.person_id, preferences.c.kind).where(
                        preferences.c.person_id.in_(sorted(people)),
                        preferences.c.mode == Mode.OFF.value,
                    )
                )
            }

    def _bounced(self, people: set[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        with self.reader.connect() as conn:
            for r in conn.execute(select(bounces).where(bounces.c.person_id.in_(sorted(people)))):
                found[r.person_id].add(r.address_hash)
        return found

    def _mark_bounced(self, person_id: str, address: str, now: float) -> None:
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        with self.engine.begin() as conn:
            conn.execute(
                insert(bounces)
                .values(
                    person_id=person_id,
                    address_hash=_address_hash(self.letterhead.link_key, address),
                    bounced_at=now,
                )
                .on_conflict_do_nothing()
            )

    def _digests(self) -> int:
        rows = self._due(DIGEST, time.time())
        if not rows:
            return 0
        self.forget_keys()
        by_person: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_person[row.recipient_id].append(row)
        batch = gather(rows, self.recorder, self.mapper, self.reader, self.keys, self.trust)
        sent = 0
        connection = None
        try:
            for person, items in by_person.items():
                now = time.time()
                entries: list[tuple[str, str]] = []
                done: list[dict[str, Any]] = []
                card = None
                for row in items:
                    try:
                        found = batch.facts(row)
                    except NotYet:
                        continue
                    if found is None:
                        done.append(_skipped(row, now, "erased or inactive"))
                        continue
                    try:
                        subject = words(found[0]).subject
                    except Exception:  # one entry that cannot be worded holds up no other
                        log.exception("notification %s could not be built; skipped", row.id)
                        done.append(_skipped(row, now, "could not be built"))
                        continue
                    card = found[1]
                    link = agreement_link(self.letterhead, row.agreement_id, row.event_type)
                    entries.append((subject, link))
                    done.append(
                        {
                            "row_id": row.id,
                            "attempts": row.attempts + 1,
                            "last_error": None,
                            "status": SENT,
                            "sent_at": now,
                            "next_attempt_at": row.next_attempt_at,
                        }
                    )
                if card is None or not entries:
                    self._write(done)
                    continue
                message = compose_digest(
                    self.env,
                    self.letterhead,
                    recipient_name=card.name,
                    to_address=card.email,
                    digest_key=f"d{items[0].id}.{recipient_hash(person)}",
                    entries=entries,
                )
                try:
                    if connection is None:
                        connection = self.transport.open()
                    result = connection.send(message, card.email)
                except ServerUnavailable as error:
                    connection = None
                    log.warning("mail server unavailable for digests: %s", error)
                    break
                if result.outcome == Outcome.SENT:
                    self._write(done)
                    sent += 1
                elif result.outcome == Outcome.BOUNCED:
                    self._mark_bounced(person, card.email, now)
                    self._write([d | {"status": BOUNCED, "sent_at": None} for d in done])
        finally:
            if connection is not None:
                connection.close()
        return sent


def _skipped(row: Any, now: float, why: str) -> dict[str, Any]:
    return {
        "row_id": row.id,
        "attempts": row.attempts,
        "last_error": why,
        "status": SKIPPED,
        "sent_at": None,
        "next_attempt_at": row.next_attempt_at,
    }


def _deferred(row: Any, now: float) -> dict[str, Any]:
    return {
        "row_id": row.id,
        "attempts": row.attempts,
        "last_error": "waiting for the read models",
        "status": PENDING,
        "sent_at": None,
        "next_attempt_at": now + NOT_YET_SECONDS,
    }


def _address_hash(key: bytes, address: str) -> str:
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Backlog:
    pending: int  # messages due to be sent now or retried later (not digests)
    oldest_seconds: float  # age of the oldest of them (0: none)


def backlog(reader: Engine, now: float | None = None) -> Backlog:
    """How many immediate messages wait, and for how long the oldest has."""
    now = now or time.time()
    with reader.connect() as conn:
        count, oldest = conn.execute(
            select(func.count(), func.min(outbox.c.created_at)).where(
                outbox.c.status == PENDING, outbox.c.delivery == IMMEDIATE
            )
        ).one()
    return Backlog(int(count), 0.0 if oldest is None else max(0.0, now - float(oldest)))
