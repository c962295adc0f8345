"""Snapshots that must prove they were written by the service.

A snapshot is a cache of an agreement's state, and the service decides on it (a
guardrail read from a snapshot refuses or accepts an adjustment). Unlike the events, it
is in no hash chain, so whoever can write the database could edit one unnoticed. Each
snapshot's stored bytes therefore carry an HMAC-SHA256 under a key only the service
holds; a snapshot whose tag does not verify (edited, or written without the key) is
never used: the agreement is replayed from its events instead, and the discard is
reported. Without a key, no snapshot is written or trusted.

An agreement's reviews, artifacts and changes would make every snapshot hold the whole
history again: a snapshot holds only the latest of them (after the last full chunk of
CHUNK_ROWS; for the changes, another CHUNK_ROWS more), and the chunks are stored once,
apart (one stream per kind and agreement, chunk n at version n + 1, in their own table),
tagged like snapshots. A chunk never changes (a change is stored as first recorded:
domain.packing.RecordTable). A snapshot counts its chunks; they are read only when their
records are. A chunk missing or whose tag does not verify is reported like a tampered
snapshot, and its records come from the events.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    IntegrityError,
    Mapper,
    Recording,
    StoredEvent,
)

from domain.agreement.snapshot import CHUNKED, CHUNKS
from domain.event_tags import TaggingMapper
from domain.packing import CHUNK_ROWS, ChunkCount, OpenedRows, as_rows

PREFIX = b"hmac-sha256:"
CHUNK_TOPIC = "crafting:chunk"  # a stored chunk's topic: packed rows, no event class
_TAG_LENGTH = 64  # hex digits
Tampered = Callable[[UUID, int], None]
Replayer = Callable[[UUID, int], Any]  # the aggregate at a version, from its events


def chunk_stream(originator_id: UUID, name: str) -> UUID:
    """The stream of a log's chunks (the chunk size in its name: another size would be
    another stream)."""
    return uuid5(originator_id, f"{name}/{CHUNK_ROWS}")


def tag(key: bytes, stored: StoredEvent) -> bytes:
    """The HMAC of a stored snapshot: its stream, version, topic and state bytes."""
    head = f"{stored.originator_id}:{stored.originator_version}:{stored.topic}:".encode()
    return hmac.new(key, head + stored.state, hashlib.sha256).hexdigest().encode()


def opened(key: bytes, stored: StoredEvent) -> StoredEvent | None:
    """The stored snapshot without its tag, or None when the tag is missing or wrong."""
    state = stored.state
    if not state.startswith(PREFIX):
        return None
    given = state[len(PREFIX) : len(PREFIX) + _TAG_LENGTH]
    inner = StoredEvent(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        state[len(PREFIX) + _TAG_LENGTH + 1 :],
    )
    return inner if hmac.compare_digest(given, tag(key, inner)) else None


class TaggedSnapshotStore(EventStore[UUID]):
    """The application's snapshot store: tags what it puts, checks what it gets."""

    def __init__(
        self,
        mapper: Mapper[UUID],
        recorder: AggregateRecorder,
        key: bytes | None,
        on_tampered: Tampered,
        chunks: AggregateRecorder | None = None,
        replay: Replayer | None = None,
    ) -> None:
        super().__init__(mapper, recorder)
        self.key = key
        self.on_tampered = on_tampered
        self.chunks = chunks  # without it, snapshots hold their logs whole
        self.replay = replay  # where a chunk cannot be used

    def put(
        self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any
    ) -> list[Recording[UUID]]:
        if self.key is None:
            return []
        key = self.key
        sealed = []
        for snapshot in domain_events:
            self._write_chunks(key, snapshot)
            stored = self.mapper.to_stored_event(snapshot)
            state = PREFIX + tag(key, stored) + b":" + stored.state
            sealed.append(
                StoredEvent(stored.originator_id, stored.originator_version, stored.topic, state)
            )
        self.recorder.insert_events(sealed, **kwargs)
        return []

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        if self.key is None:
            return
        stored_snapshots = self.recorder.select_events(
            originator_id=originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        for stored in stored_snapshots:
            inner = opened(self.key, stored)
            if inner is None:
                self.on_tampered(originator_id, stored.originator_version)
                continue
            snapshot = self.mapper.to_domain_event(inner)
            self._attach_readers(snapshot)
            yield snapshot

    def _write_chunks(self, key: bytes, snapshot: DomainEventProtocol[UUID]) -> None:
        """Store the chunks a snapshot counts that are not stored yet (before the
        snapshot, so no snapshot refers to a chunk not there). Chunks are immutable:
        one stored by another process meanwhile holds the same rows."""
        counts = getattr(snapshot, "state", {}).get(CHUNKS, {})
        for name, count in counts.items():
            unwritten = getattr(count, "unwritten", None)
            if not unwritten:
                continue
            if self.chunks is None:
                raise TypeError("A snapshot with chunks needs a store for them.")
            stream = chunk_stream(snapshot.originator_id, name)
            last = self.chunks.select_events(stream, desc=True, limit=1)
            stored_already = last[0].originator_version if last else 0
            for index, packed in sorted(unwritten.items()):
                if index + 1 <= stored_already:
                    continue
                state = packed.encode()
                if self.mapper.compressor:
                    state = self.mapper.compressor.compress(state)
                if self.mapper.cipher:
                    state = self.mapper.cipher.encrypt(state)
                inner = StoredEvent(stream, index + 1, CHUNK_TOPIC, state)
                tagged = PREFIX + tag(key, inner) + b":" + state
                try:
                    self.chunks.insert_events([StoredEvent(stream, index + 1, CHUNK_TOPIC, tagged)])
                except IntegrityError:
                    continue  # stored meanwhile, with the same rows

    def _attach_readers(self, snapshot: DomainEventProtocol[UUID]) -> None:
        """Give each log's chunk count the reader of its chunks."""
        counts = getattr(snapshot, "state", {}).get(CHUNKS)
        if not counts:
            return
        aid, version = snapshot.originator_id, snapshot.originator_version
        for name, count in list(counts.items()):
            if count:
                counts[name] = ChunkCount.of(
                    count, reader=partial(self._read_chunks, aid, version, name, count)
                )

    def _read_chunks(self, aid: UUID, version: int, name: str, count: int) -> list[Any]:
        """The packed rows of a log's first `count` chunks, sealed values opened; from
        the events if any chunk is missing or its tag does not verify."""
        assert self.key is not None
        assert self.chunks is not None
        mapper = self.mapper
        stored = self.chunks.select_events(chunk_stream(aid, name), lte=count)
        packed: list[Any] = []
        for row in stored:
            text = self._chunk_text(row)
            if text is None or row.originator_version != len(packed) + 1:
                break
            packed.append(mapper.opened_rows(text) if isinstance(mapper, TaggingMapper) else text)
        if len(packed) == count:
            return packed
        self.on_tampered(aid, version)
        return [self._replayed(aid, version, name, count)]

    def _chunk_text(self, row: StoredEvent) -> str | None:
        """A stored chunk's packed rows as written (sealed values as envelopes), or None
        when its tag does not verify."""
        assert self.key is not None
        inner = opened(self.key, row)
        if inner is None:
            return None
        state = inner.state
        if self.mapper.cipher:
            state = self.mapper.cipher.decrypt(state)
        if self.mapper.compressor:
            state = self.mapper.compressor.decompress(state)
        return state.decode()

    def stored_chunks(self, aid: UUID, name: str) -> list[str | None]:
        """Every stored chunk of a log, in order, as written (None where its tag does
        not verify): for `crafting verify`."""
        if self.key is None or self.chunks is None:
            return []
        return [self._chunk_text(row) for row in self.chunks.select_events(chunk_stream(aid, name))]

    def _replayed(self, aid: UUID, version: int, name: str, count: int) -> OpenedRows:
        """A log's first `count` chunks' records, replayed from the events."""
        if self.replay is None:
            raise TypeError("No replay for snapshot chunks that cannot be used.")
        held = getattr(self.replay(aid, version), name)
        records = list(held.values() if isinstance(held, Mapping) else held)
        return as_rows(records[: count * CHUNK_ROWS], CHUNKED[name])
