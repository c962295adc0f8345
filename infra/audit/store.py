"""The audit's view of the event store: stored events as records, the checkpoints
table, and the alarms raised when stored data fails a check.

Events are read as stored (decoded by the transcoder, never upcast), so a hash taken
when an event was written still matches after its class learns a newer shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from hashlib import sha256
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    JSONTranscoder,
    Notification,
    OperationalError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from prometheus_client import Counter
from psycopg.rows import tuple_row
from sqlalchemy import JSON, BigInteger, Column, Engine, MetaData, String, Table, select

from domain.integrity import Checkpoint, Record, event_hash
from infra import alarms
from infra.audit.stored_form import StoredForm

log = logging.getLogger(__name__)
INTEGRITY_ALARMS = Counter(
    "crafting_integrity_alarms_total",
    "Stored data that failed an integrity check (a snapshot, an event) and was not trusted.",
    ["kind"],
)
BATCH = 5000
UNTAGGED_EVENT = "event.untagged"  # the alarm's kind (infra.alarms)
ProgressCallback = Callable[[int, int], None]  # (position reached, log's end)
# A stored event as the audit reads it: (log position, stream, version, topic, state).
Row = tuple[int, str, int, str, bytes]

metadata = MetaData()
checkpoints = Table(
    "crafting_checkpoints",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("peaks", JSON, nullable=False),  # the Merkle frontier, to extend next time
    Column("recorded_at", String(40), nullable=False),
    Column("signature", String(100), nullable=False),
    Column("public_key", String(60), nullable=False),
)


@dataclass(frozen=True)
class Store:
    """The event log as the auditors read it, and its checkpoints."""

    recorder: ApplicationRecorder
    transcoder: Transcoder
    engine: Engine

    def records(self, after: int = 0, until: int | None = None) -> Iterator[Record]:
        """Every stored event after `after` (up to `until`), as stored, in log order."""
        read = self._read
        for position, stream, version, topic, state in self.rows(after, until):
            yield read(position, stream, version, topic, state)

    def rows(self, after: int = 0, until: int | None = None) -> Generator[Row, None, None]:
        """Every stored event after `after` (up to `until`) as a `Row`, in log order.
        On PostgreSQL, `BATCH` rows a statement, read ahead: the next batch is fetched in
        a thread while the caller hashes this one (the server and the wait for it
        overlap the hashing), as plain tuples in binary (the state's bytes as stored, no
        hex to decode) with the stream's id as PostgreSQL writes it, the form `str(UUID)`
        gives (what `select_notifications` builds, a dict, a
        UUID and a `Notification` per row, was a third of verify's CPU per event)."""
        fetch = self._batches()
        if fetch is None:
            position = after
            while notifications := self.recorder.select_notifications(
                position + 1, BATCH, stop=until
            ):
                for n in notifications:
                    yield n.id, str(n.originator_id), n.originator_version, n.topic, n.state
                position = notifications[-1].id
            return
        with ThreadPoolExecutor(1, thread_name_prefix="audit-read") as ahead:
            pending = ahead.submit(fetch, after, until)
            try:
                while batch := pending.result():
                    pending = ahead.submit(fetch, batch[-1][0], until)
                    yield from batch
            finally:
                pending.cancel()  # the caller stopped early: a batch in flight is dropped

    def _batches(self) -> Callable[[int, int | None], list[Row]] | None:
        """`BATCH` rows after a position (up to another) in one statement, on PostgreSQL;
        None elsewhere (the recorder's `select_notifications` is used)."""
        if not isinstance(self.recorder, PostgresApplicationRecorder):
            return None
        pg = self.recorder
        # Identifiers come from the library's own configuration, never from input.
        table = f'"{pg.datastore.schema}"."{pg.events_table_name}"'
        head = (
            "SELECT notification_id, originator_id::text, originator_version, topic, state "  # noqa: S608
            f"FROM {table} WHERE notification_id > %s"
        )
        tail = " ORDER BY notification_id LIMIT %s"
        upto = f"{head} AND notification_id <= %s{tail}"
        open_ended = f"{head}{tail}"

        def fetch(after: int, until: int | None) -> list[Row]:
            with pg.datastore.transaction(commit=False) as curs:
                curs.row_factory = tuple_row  # type: ignore[assignment]
                if until is None:
                    curs.execute(open_ended, (after, BATCH), prepare=True, binary=True)
                else:
                    curs.execute(upto, (after, until, BATCH), prepare=True, binary=True)
                return curs.fetchall()  # type: ignore[return-value]

        # Retried as the recorder's `select_notifications` is (a connection lost).
        retried: Callable[[int, int | None], list[Row]]
        retried = retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)(fetch)
        return retried

    @cached_property
    def form(self) -> StoredForm:
        """Reads what a stored event's hash covers (and its tag)."""
        assert isinstance(self.transcoder, JSONTranscoder)
        return StoredForm(self.transcoder)

    def record(self, n: Notification) -> Record:
        """One notification as the verifier reads it."""
        return self.record_of(n, n.id)

    def record_of(self, stored: StoredEvent, position: int) -> Record:
        """A stored event as the verifier reads it, at `position` (its log position, or
        its version where a stream is read alone: versions order it the same way)."""
        return self._read(
            position,
            str(stored.originator_id),
            stored.originator_version,
            stored.topic,
            stored.state,
        )

    def _read(self, position: int, stream: str, version: int, topic: str, state: bytes) -> Record:
        fields, tag, exact = self.form.read_exact(state)
        kind = ExactRecord if exact else Record
        return kind(position, stream, version, topic, fields, tag)

    def checkpoints(self) -> list[Checkpoint]:
        """Every signed checkpoint, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(checkpoints).order_by(checkpoints.c.position)).mappings()
            return [
                Checkpoint(r["position"], r["size"], r["root"], r["recorded_at"], r["signature"])
                for r in rows
            ]

    def latest_checkpoint(self) -> dict[str, Any] | None:
        """The newest checkpoint's row, or None before the first checkpoint."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(checkpoints).order_by(checkpoints.c.position.desc()).limit(1))
                .mappings()
                .first()
            )
        return None if row is None else dict(row)


def report_tampered_snapshot(
    agreement_id: UUID, version: int, engine: Engine | None = None
) -> None:
    """A snapshot failed its tag: it was not used (the events were replayed instead).
    With `engine`, the alarm is also kept in the database, where every process shows it."""
    INTEGRITY_ALARMS.labels("snapshot").inc()
    log.error(
        "integrity alarm: the snapshot of %s at version %s failed its check; it was "
        "discarded and the events replayed (run `crafting verify`)",
        agreement_id,
        version,
    )
    if engine is not None:
        keep_alarm(
            engine,
            "integrity.snapshot",
            f"agreement {agreement_id} version {version}",
            f"The snapshot of agreement {agreement_id} at version {version} failed its "
            "tag: it was discarded and the events replayed. Run `crafting verify`.",
        )


def report_forged_event(record: Record) -> None:
    """An event without the service's tag: someone wrote it around the service."""
    INTEGRITY_ALARMS.labels("event").inc()
    log.error(
        "integrity alarm: the event at position %s (stream %s, version %s) does not carry "
        "the service's tag; it was not checkpointed, nor anything after it (run `crafting verify`)",
        record.position,
        record.stream,
        record.version,
    )


def keep_alarm(engine: Engine, kind: str, subject: str, detail: str) -> None:
    """Raise the alarm in the database (once while open); a failure to do so is logged,
    never raised: the alarm is already in the log and the process's counter."""
    try:
        with engine.begin() as conn:
            alarms.raise_alarm(conn, kind, subject, detail)
    except Exception:  # the database may be what is failing
        log.warning("could not record the alarm %s (%s) in the database", kind, subject)


@dataclass(frozen=True)
class ExactRecord(Record):
    """A record whose fields orjson writes as the standard library does
    (`StoredForm.read_exact`): its canonical encoding byte for byte as
    `domain.integrity.canonical` writes it, faster."""


def record_hash(record: Record) -> str:
    """The hash of a stored event, as its chain and the checkpoints take it."""
    if type(record) is ExactRecord:
        document = {
            "stream": record.stream,
            "version": record.version,
            "topic": record.topic,
            "fields": record.fields,
        }
        try:
            return sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
        except orjson.JSONEncodeError:  # nested deeper than orjson writes (254 levels)
            pass
    return event_hash(record.stream, record.version, record.topic, record.fields)
