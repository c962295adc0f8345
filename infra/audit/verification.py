"""Verification: the whole store (chains, roots, signatures, anchors, tags), one
agreement's chain, and every stored snapshot against the events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, text

from domain.agreement.snapshot import CHUNKS
from domain.application import CraftingApplication
from domain.application.replay import ReplayingRepository
from domain.event_tags import tag_valid
from domain.integrity import Break, Checkpoint, Verifier, plain
from domain.snapshots import TaggedSnapshotStore, opened
from infra.audit.store import BATCH, ProgressCallback, Store, record_hash


def verify_store(
    store: Store,
    public_key: str,
    progress: ProgressCallback | None = None,
    anchors: list[Checkpoint] | None = None,
    events_key: bytes | None = None,
) -> Verifier:
    """Walk every event and checkpoint; the verifier holds the first break, if any.
    `anchors`: checkpoints published outside the store, which must still be there.
    `events_key` (the service's, when this process has the signing key): every event
    after the last checkpoint must carry the service's tag (earlier ones are covered by
    signed roots, and may predate tags)."""
    verifier = Verifier(public_key, hash_of=record_hash)
    verifier.anchors = list(anchors or ())
    pending = store.checkpoints()
    checkpointed = pending[-1].position if pending else 0
    head = store.recorder.max_notification_id() or 0
    for record in store.records():
        while pending and pending[0].position < record.position:
            verifier.check(pending.pop(0))
        digest = verifier.add(record)
        if (
            events_key is not None
            and record.position > checkpointed
            and not tag_valid(events_key, digest, record.tag)
        ):
            verifier.fail(
                Break(
                    "NOT_WRITTEN_BY_SERVICE",
                    record.position,
                    record.stream,
                    record.version,
                    "the event does not carry the service's tag: it was written around "
                    "the service (not checkpointed)",
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
    verifier = Verifier(None, hash_of=record_hash)
    for stored in store.recorder.select_events(stream):
        # A stream read has no log positions; its versions order it the same way.
        verifier.add(store.record_of(stored, stored.originator_version))
    return verifier


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
    # Events only, no snapshots; replayed without the library's per-event protocol check
    # (domain.application.replay: it doubled the cost of a replay).
    replay = ReplayingRepository(app.events)
    if not isinstance(store, TaggedSnapshotStore):
        return 0, []
    table = snapshot_table(store)
    query = text(  # the library's own table name, never input
        f"SELECT originator_id, originator_version, topic, state FROM {table} "  # noqa: S608
        "ORDER BY originator_id, originator_version"
    )
    # Compared as stored: sealed values as their envelopes, not opened.
    as_stored = app.tagging_mapper.keeping_sealed()
    checked, problems = 0, []
    seen: dict[tuple[UUID, str], list[str | None]] = {}  # (domain.snapshots) chunks
    with engine.connect() as conn:
        for row in conn.execute(query):
            checked += 1
            aid = UUID(str(row.originator_id))
            stored = StoredEvent(aid, int(row.originator_version), row.topic, bytes(row.state))
            inner = None if store.key is None else opened(store.key, stored)
            if inner is None:
                problems.append(SnapshotProblem(str(aid), stored.originator_version, "BAD_TAG"))
                continue
            kept = as_stored.to_domain_event(inner)
            snapshot_class = type(kept)
            derived = snapshot_class.take(replay.get(aid, version=stored.originator_version))  # type: ignore[attr-defined]
            if plain(kept.state) != plain(derived.state):  # type: ignore[attr-defined]
                problems.append(
                    SnapshotProblem(str(aid), stored.originator_version, "STATE_DIFFERS")
                )
            problems += _chunk_problems(store, aid, stored.originator_version, derived, seen)
    return checked, problems


def _chunk_problems(
    store: TaggedSnapshotStore,
    aid: UUID,
    version: int,
    derived: Any,
    seen: dict[tuple[UUID, str], list[str | None]],
) -> list[SnapshotProblem]:
    """The stored chunks of the agreement's logs (domain.snapshots) that this snapshot
    refers to and that differ from the replayed records, each chunk checked once (with
    the first snapshot that refers to it). `seen`: each log's stored chunks, read once,
    and set to None as they are checked."""
    problems = []
    for name, count in derived.state.get(CHUNKS, {}).items():
        if not count:
            continue
        if (aid, name) not in seen:
            seen[aid, name] = list(store.stored_chunks(aid, name))
        stored = seen[aid, name]
        for index, packed in sorted(count.unwritten.items()):
            if index < len(stored) and stored[index] == _CHECKED:
                continue
            if index >= len(stored) or stored[index] != packed:
                problems.append(SnapshotProblem(str(aid), version, f"CHUNK_DIFFERS:{name}:{index}"))
            elif index < len(stored):
                stored[index] = _CHECKED
    return problems


_CHECKED = ""  # a chunk already checked (no stored chunk is empty: its rows are JSON)


def snapshot_table(store: TaggedSnapshotStore) -> str:
    """The snapshot table's name (the library names it per database)."""
    name = getattr(store.recorder, "events_table_name", None)
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise TypeError(f"No snapshot table name on {type(store.recorder).__name__}")
    return name
