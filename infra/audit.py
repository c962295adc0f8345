"""Integrity over the event store: signed checkpoints, verification, streaming export.

Events are read as stored (decoded by the transcoder, never upcast), so a hash taken
when an event was written still matches after its class learns a newer shape.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Repository
from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent, Transcoder
from prometheus_client import Counter
from sqlalchemy import JSON, BigInteger, Column, Engine, MetaData, String, Table, select, text
from sqlalchemy.exc import IntegrityError

from domain.application import CraftingApplication
from domain.event_tags import tag_valid
from domain.integrity import (
    TAG_FIELD,
    Break,
    Checkpoint,
    MerkleFrontier,
    Record,
    Verifier,
    checkpoint_message,
    event_hash,
    hashed_fields,
    plain,
)
from domain.snapshots import SealedSnapshotStore, opened
from infra.signing import public_key_b64, sign, tag_key

log = logging.getLogger(__name__)
INTEGRITY_ALARMS = Counter(
    "crafting_integrity_alarms_total",
    "Stored data that failed an integrity check (a snapshot, an event) and was not trusted.",
    ["kind"],
)
Progress = Callable[[int, int], None]
BATCH = 5000

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
    recorder: ApplicationRecorder
    transcoder: Transcoder
    engine: Engine

    def records(self, after: int = 0, until: int | None = None) -> Iterator[Record]:
        """Every stored event after `after` (up to `until`), as stored, in log order."""
        position = after
        while batch := self.recorder.select_notifications(position + 1, BATCH, stop=until):
            for n in batch:
                yield self.record(n)
            position = batch[-1].id

    def record(self, n: Notification) -> Record:
        state = self.transcoder.decode(n.state)
        fields = hashed_fields(state)
        stream, version = str(n.originator_id), n.originator_version
        return Record(n.id, stream, version, n.topic, fields, state.get(TAG_FIELD))

    def checkpoints(self) -> list[Checkpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(checkpoints).order_by(checkpoints.c.position)).mappings()
            return [
                Checkpoint(r["position"], r["size"], r["root"], r["recorded_at"], r["signature"])
                for r in rows
            ]

    def latest_checkpoint(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(checkpoints).order_by(checkpoints.c.position.desc()).limit(1))
                .mappings()
                .first()
            )
        return None if row is None else dict(row)


def report_tampered_snapshot(agreement_id: UUID, version: int) -> None:
    """A snapshot failed its tag: it was not used (the events were replayed instead)."""
    INTEGRITY_ALARMS.labels("snapshot").inc()
    log.error(
        "integrity alarm: the snapshot of %s at version %s failed its check; it was "
        "discarded and the events replayed (run `crafting verify`)",
        agreement_id,
        version,
    )


def report_forged_event(record: Record) -> None:
    """An event without the service's tag: someone wrote it around the service."""
    INTEGRITY_ALARMS.labels("event").inc()
    log.error(
        "integrity alarm: the event at position %s (stream %s, version %s) does not carry "
        "the service's tag; it was not sealed, nor anything after it (run `crafting verify`)",
        record.position,
        record.stream,
        record.version,
    )


def ensure_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def seal(store: Store, key: Ed25519PrivateKey) -> Checkpoint | None:
    """Record a signed checkpoint over the whole log up to its current end; None when
    nothing was written since the last one. Extends the last frontier: O(new events)."""
    last = store.latest_checkpoint()
    head = store.recorder.max_notification_id() or 0
    start = 0 if last is None else int(last["position"])
    if head <= start:
        return None
    tree = MerkleFrontier() if last is None else MerkleFrontier(last["size"], last["peaks"])
    events_key = tag_key(key, "events")
    sealed_up_to = start
    for record in store.records(start, head):
        digest = _hash(record)
        if not tag_valid(events_key, digest, record.tag):
            report_forged_event(record)
            break  # a checkpoint covers a prefix of the log: nothing past this one
        tree.append(digest)
        sealed_up_to = record.position
    if sealed_up_to == start:
        return None
    head = sealed_up_to
    recorded_at = datetime.now(UTC).isoformat()
    root = tree.root()
    signature = sign(key, checkpoint_message(head, tree.size, root, recorded_at))
    try:
        with store.engine.begin() as conn:
            conn.execute(
                checkpoints.insert().values(
                    position=head,
                    size=tree.size,
                    root=root,
                    peaks=tree.state(),
                    recorded_at=recorded_at,
                    signature=signature,
                    public_key=public_key_b64(key),
                )
            )
    except IntegrityError:
        return None  # another process sealed the same position first
    return Checkpoint(head, tree.size, root, recorded_at, signature)


def _hash(record: Record) -> str:
    return event_hash(record.stream, record.version, record.topic, record.fields)


def verify_store(
    store: Store,
    public_key: str,
    progress: Progress | None = None,
    anchors: list[Checkpoint] | None = None,
    events_key: bytes | None = None,
) -> Verifier:
    """Walk every event and checkpoint; the verifier holds the first break, if any.
    `anchors`: checkpoints published outside the store, which must still be there.
    `events_key` (the service's, when this process has the signing key): every event
    after the last checkpoint must carry the service's tag (earlier ones are covered by
    signed roots, and may predate tags)."""
    verifier = Verifier(public_key)
    verifier.anchors = list(anchors or ())
    pending = store.checkpoints()
    sealed = pending[-1].position if pending else 0
    head = store.recorder.max_notification_id() or 0
    for record in store.records():
        while pending and pending[0].position < record.position:
            verifier.check(pending.pop(0))
        verifier.add(record)
        if (
            events_key is not None
            and record.position > sealed
            and not tag_valid(events_key, _hash(record), record.tag)
        ):
            verifier.fail(
                Break(
                    "NOT_WRITTEN_BY_SERVICE",
                    record.position,
                    record.stream,
                    record.version,
                    "the event does not carry the service's tag: it was written around "
                    "the service (not sealed)",
                )
            )
        if progress is not None and verifier.events % BATCH == 0:
            progress(record.position, head)
    for checkpoint in pending:
        verifier.check(checkpoint)
    verifier.finish()
    if progress is not None:
        progress(head, head)
    return verifier


def verify_stream(store: Store, stream: UUID) -> Verifier:
    """The hash chain of one agreement (its events' positions come along)."""
    verifier = Verifier(None)
    for stored in store.recorder.select_events(stream):
        fields = hashed_fields(store.transcoder.decode(stored.state))
        # A stream read has no log positions; its versions order it the same way.
        verifier.add(
            Record(
                stored.originator_version,
                str(stored.originator_id),
                stored.originator_version,
                stored.topic,
                fields,
            )
        )
    return verifier


def export(
    store: Store,
    out: IO[str],
    *,
    stream: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Write events and checkpoints as JSON Lines, streaming (constant memory)."""
    scope = "all" if stream is None and since is None and until is None else "partial"
    out.write(
        json.dumps(
            {
                "kind": "header",
                "scope": scope,
                "format": 1,
                "exportedAt": datetime.now(UTC).isoformat(),
            }
        )
        + "\n"
    )
    pending = store.checkpoints()
    head = store.recorder.max_notification_id() or 0
    written = 0
    for record in store.records():
        while pending and pending[0].position < record.position:
            out.write(checkpoint_line(pending.pop(0)))
        if _selected(record, stream, since, until):
            out.write(
                json.dumps(
                    {
                        "kind": "event",
                        "position": record.position,
                        "stream": record.stream,
                        "version": record.version,
                        "topic": record.topic,
                        "fields": record.fields,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            written += 1
        if progress is not None and record.position % BATCH == 0:
            progress(record.position, head)
    for checkpoint in pending:
        out.write(checkpoint_line(checkpoint))
    if progress is not None:
        progress(head, head)
    return written


def _selected(
    record: Record, stream: UUID | None, since: datetime | None, until: datetime | None
) -> bool:
    if stream is not None and record.stream != str(stream):
        return False
    if since is None and until is None:
        return True
    at = datetime.fromisoformat(record.fields["timestamp"])
    return (since is None or at >= since) and (until is None or at < until)


def checkpoint_line(c: Checkpoint) -> str:
    """A checkpoint as one JSON line (exports, published anchors)."""
    return (
        json.dumps(
            {
                "kind": "checkpoint",
                "position": c.position,
                "size": c.size,
                "root": c.root,
                "recordedAt": c.recorded_at,
                "signature": c.signature,
            }
        )
        + "\n"
    )


class Sealer:
    """Seals a checkpoint every `interval` seconds while new events arrive."""

    def __init__(self, store: Store, key: Ed25519PrivateKey, interval: float) -> None:
        self.store, self.key, self.interval = store, key, interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                seal(self.store, self.key)
            except Exception:  # sealing must never take the service down; retry later
                log.exception("sealing a checkpoint failed")

    def stop(self) -> None:
        self.stopping.set()


@dataclass(frozen=True)
class SnapshotProblem:
    """A stored snapshot that may not be trusted: its tag is missing or wrong
    (BAD_TAG), or its state is not what the events give (STATE_DIFFERS)."""

    agreement_id: str
    version: int
    kind: str


def verify_snapshots(app: CraftingApplication, engine: Engine) -> tuple[int, list[SnapshotProblem]]:
    """Check every stored snapshot's tag, and re-derive its state from the events: a
    snapshot is a cache the service decides on, so it must equal the replayed state."""
    store = app.snapshots
    replay: Repository[UUID] = Repository(app.events)  # events only, no snapshots
    if not isinstance(store, SealedSnapshotStore):
        return 0, []
    table = snapshot_table(store)
    query = text(  # the library's own table name, never input
        f"SELECT originator_id, originator_version, topic, state FROM {table} "  # noqa: S608
        "ORDER BY originator_id, originator_version"
    )
    checked, problems = 0, []
    with engine.connect() as conn:
        for row in conn.execute(query):
            checked += 1
            aid = UUID(str(row.originator_id))
            stored = StoredEvent(aid, int(row.originator_version), row.topic, bytes(row.state))
            inner = None if store.key is None else opened(store.key, stored)
            if inner is None:
                problems.append(SnapshotProblem(str(aid), stored.originator_version, "BAD_TAG"))
                continue
            kept = app.mapper.to_domain_event(inner)
            snapshot_class = type(kept)
            derived = snapshot_class.take(replay.get(aid, version=stored.originator_version))  # type: ignore[attr-defined]
            if plain(kept.state) != plain(derived.state):  # type: ignore[attr-defined]
                problems.append(
                    SnapshotProblem(str(aid), stored.originator_version, "STATE_DIFFERS")
                )
    return checked, problems


def snapshot_table(store: SealedSnapshotStore) -> str:
    """The snapshot table's name (the library names it per database)."""
    name = getattr(store.recorder, "events_table_name", None)
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise TypeError(f"No snapshot table name on {type(store.recorder).__name__}")
    return name
