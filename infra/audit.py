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
from eventsourcing.persistence import ApplicationRecorder, Notification, Transcoder
from sqlalchemy import JSON, BigInteger, Column, Engine, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError

from domain.integrity import (
    Checkpoint,
    MerkleFrontier,
    Record,
    Verifier,
    checkpoint_message,
    event_hash,
    hashed_fields,
)
from infra.signing import public_key_b64, sign

log = logging.getLogger(__name__)
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
        fields = hashed_fields(self.transcoder.decode(n.state))
        return Record(n.id, str(n.originator_id), n.originator_version, n.topic, fields)

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
    for record in store.records(start, head):
        tree.append(_hash(record))
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


def verify_store(store: Store, public_key: str, progress: Progress | None = None) -> Verifier:
    """Walk every event and checkpoint; the verifier holds the first break, if any."""
    verifier = Verifier(public_key)
    pending = store.checkpoints()
    head = store.recorder.max_notification_id() or 0
    for record in store.records():
        while pending and pending[0].position < record.position:
            verifier.check(pending.pop(0))
        verifier.add(record)
        if progress is not None and verifier.events % BATCH == 0:
            progress(record.position, head)
    for checkpoint in pending:
        verifier.check(checkpoint)
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
            out.write(_checkpoint_line(pending.pop(0)))
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
        out.write(_checkpoint_line(checkpoint))
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


def _checkpoint_line(c: Checkpoint) -> str:
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
