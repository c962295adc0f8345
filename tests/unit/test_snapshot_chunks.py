"""An agreement's append-only logs are stored in chunks written once (domain.snapshots):
each snapshot holds fewer than CHUNK_ROWS of their records and counts the chunks, yet
every snapshot, and every lookup, equals the state replayed from the events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.application import Repository

from bench.long_agreement import LongAgreement, lift_child_limits
from bench.team import Team
from domain.agreement import CHILD_LIMITS
from domain.agreement.snapshot import CHUNKED, CHUNKED_BY_ID, CHUNKS
from domain.agreement.state import chain_of
from domain.application import CraftingApplication
from domain.application import commands as c
from domain.integrity import plain
from domain.packing import CHUNK_ROWS, RecordLog, RecordTable, pack
from domain.records import Review, ReviewOutcome
from domain.sketch import CraftedBlock, Energy, Sketch, TaskBlock
from domain.snapshots import TaggedSnapshotStore, chunk_stream, opened
from infra.persistence import eventsourcing_env
from tests.support import draft


@pytest.fixture
def grown(memory_app: CraftingApplication) -> Iterator[tuple[Team, UUID]]:
    """An agreement of 800 events, past the child limits (the benchmarks' mix)."""
    limits = dict(CHILD_LIMITS)
    lift_child_limits()
    try:
        team = Team(memory_app)
        agreement = LongAgreement(team, team.active().id)
        agreement.grow(800, batch=70)
        yield team, agreement.aid
    finally:
        CHILD_LIMITS.update(limits)


def _store(app: CraftingApplication) -> TaggedSnapshotStore:
    assert isinstance(app.snapshots, TaggedSnapshotStore) and app.snapshots.chunks is not None
    return app.snapshots


def test_snapshots_hold_the_logs_tail_and_count_chunks_stored_once(
    memory_app: CraftingApplication, grown: tuple[Team, UUID]
) -> None:
    _, aid = grown
    store = _store(memory_app)
    assert store.chunks is not None
    replay = Repository(memory_app.events)  # events only
    snapshots = list(store.get(aid))
    assert len(snapshots) == 8
    for snapshot in snapshots:
        state: dict[str, Any] = snapshot.state  # type: ignore[attr-defined]
        # Nothing grows per change but the chunked changes: the chains are not kept.
        assert "chains" not in state
        for name in CHUNKED:  # the tail only (records by id keep CHUNK_ROWS more)
            kept = CHUNK_ROWS * (2 if name in CHUNKED_BY_ID else 1)
            assert len(orjson.loads(state[name])) < kept
        # Equal to what the replayed state would store, chunk counts included.
        derived = type(snapshot).take(replay.get(aid, version=snapshot.originator_version))  # type: ignore[attr-defined]
        assert plain(state) == plain(derived.state)
    latest = snapshots[-1].state[CHUNKS]  # type: ignore[attr-defined]
    assert latest["reviews"] >= 4
    assert latest["changes"] >= 1
    for name in CHUNKED:
        stored = store.chunks.select_events(chunk_stream(aid, name))
        assert [c.originator_version for c in stored] == list(range(1, latest[name] + 1))


def _chunk_reads(store: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The logs whose chunks `store` reads from now on, in order."""
    reads: list[str] = []
    read_chunks = store._read_chunks

    def counted(aid: UUID, version: int, name: str, count: int) -> list[Any]:
        reads.append(name)
        return read_chunks(aid, version, name, count)

    monkeypatch.setattr(store, "_read_chunks", counted)
    return reads


def test_every_version_equals_the_replayed_state_and_chunks_are_read_only_when_used(
    memory_app: CraftingApplication, grown: tuple[Team, UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    team, aid = grown
    store = _store(memory_app)
    reads = _chunk_reads(store, monkeypatch)
    replay = Repository(memory_app.events)
    auditor = team.auditor.actor
    for version in (99, 100, 101, 250, 300, 399, 400, 449, 450, 555, 699, 700, 799, 800):
        past = memory_app.agreement_at(auditor, aid, version=version)
        expected = replay.get(aid, version=version)
        assert len(past.reviews) == len(expected.reviews)  # counted, not read
        # Not read either: the changes the events after a snapshot revert in this mix
        # are recent (one in a chunk would read the changes' chunks).
        assert reads == []
        assert past == expected  # reads the chunks
        assert list(past.reviews) == list(expected.reviews)
        reads.clear()


def test_a_log_repacks_only_the_chunks_not_stored_yet() -> None:
    day = date(2026, 5, 6)
    reviews = [Review(f"r{i}", day, ReviewOutcome.ON_TRACK, f"n{i}", day, "m") for i in range(5)]
    rows = reviews * (CHUNK_ROWS // 5)
    log: RecordLog[Review] = RecordLog(Review, rows)
    count, unwritten, tail = log.pack_chunked()
    assert (count, list(unwritten), tail) == (1, [0], "[]")

    def chunks() -> list[Any]:
        return [unwritten[0]]

    loaded: RecordLog[Review] = RecordLog(Review, packed=tail, chunked=1, reader=chunks)
    for review in reviews * (CHUNK_ROWS // 5 + 1):
        loaded.append(review)
    count, again, tail = loaded.pack_chunked()
    assert count == 2 and list(again) == [1]  # chunk 0 neither read nor packed again
    assert len(orjson.loads(tail)) == 5
    assert list(loaded) == rows * 2 + reviews
    assert loaded.pack_chunked() == (count, again, tail)  # the same once read
    assert pack(list(loaded), Review) == loaded.pack()


def test_a_snapshot_decoded_without_its_store_refuses_to_read_its_chunks(
    memory_app: CraftingApplication, grown: tuple[Team, UUID]
) -> None:
    """Never read as if the chunks were empty."""
    _, aid = grown
    store = _store(memory_app)
    (row,) = store.recorder.select_events(aid, desc=True, limit=1)
    assert store.key is not None
    inner = opened(store.key, row)
    assert inner is not None
    agreement = memory_app.mapper.to_domain_event(inner).mutate(None)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="snapshot store"):
        list(agreement.reviews)


def test_a_revert_of_a_change_in_a_chunk_reads_it_and_keeps_every_answer(
    memory_app: CraftingApplication, grown: tuple[Team, UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change is stored in its chunk as first recorded: who reverted it is worked out
    from the change that reverts it, before and after a new revert."""
    team, aid = grown
    store = _store(memory_app)
    replay = Repository(memory_app.events)
    before = replay.get(aid)
    # The oldest chain whose head is a revert of an adjustment: re-applying it reverts
    # that revert, whose change was recorded long before the latest snapshot.
    root = next(
        r.id
        for r in before.changes.values()
        if r.kind == "ADJUSTMENT_ADDED" and len(chain_of(before, r.id)) == 2
    )
    head = before.head_of(root)
    assert list(before.changes).index(head) < CHUNK_ROWS  # in the first chunk
    reads = _chunk_reads(store, monkeypatch)
    memory_app.repository.cache = None  # loaded from the latest snapshot, not the cache
    team.run(team.manager, c.RevertChange(agreement_id=aid, change_id=head, reason="again"))
    assert reads == ["changes"]
    after = replay.get(aid)
    assert memory_app.repository.get(aid) == after
    assert after.changes[head].reverted_by == after.head_of(root) != head
    assert len(chain_of(after, root)) == 3 and after.is_in_effect(root)


def test_every_chain_read_from_a_snapshot_is_the_chain_its_changes_made(
    memory_app: CraftingApplication, grown: tuple[Team, UUID]
) -> None:
    """A chain is its root followed through `reverted_by` (worked out as the chunks are
    read): at each version, for every root, it is the root's changes in the order they
    were made (what the chains held apart used to be), and its head and whether it is in
    effect follow from it."""
    team, aid = grown
    auditor = team.auditor.actor
    reverted = 0
    for version in (100, 101, 399, 450, 799, 800):
        past = memory_app.agreement_at(auditor, aid, version=version)
        made: dict[str, list[str]] = {}
        for change in past.changes.values():
            made.setdefault(change.root_id, []).append(change.id)
        for root, links in made.items():
            assert [link.id for link in chain_of(past, root)] == links
            assert past.head_of(root) == links[-1]
            assert past.is_in_effect(root) is (len(links) % 2 == 1)
            reverted += len(links) > 1
    assert reverted > 20  # the mix reverts, and reverts reverts


def test_a_snapshot_drops_the_cached_agreement_so_a_command_copies_its_tail() -> None:
    """The cached agreement is fast-forwarded in place and copied before every command:
    dropped when a snapshot is taken, it is loaded again from that snapshot (its tail,
    the rest in chunks), so what a command copies does not grow with the history."""
    limits = dict(CHILD_LIMITS)
    lift_child_limits()
    app = CraftingApplication(env=eventsourcing_env("sqlite:///:memory:"), snapshot_key=b"k" * 32)
    try:
        team = Team(app)
        agreement = LongAgreement(team, team.active().id)
        agreement.grow(390)  # held in memory and cached: plain dicts of every record
        while agreement.execute().version < 410:  # through the cache, past a snapshot
            pass
        assert app.repository.cache is not None
        latest = app.repository.get(agreement.aid)  # fast-forwards the cached one
        cached: Any = app.repository.cache.get(agreement.aid)
        assert isinstance(cached.changes, RecordTable)  # loaded from the snapshot
        assert len(cached.changes._items) < 2 * CHUNK_ROWS + 20
        assert cached == latest == Repository(app.events).get(agreement.aid)
    finally:
        CHILD_LIMITS.update(limits)
        app.close()


def test_adjustments_past_the_cap_are_chunked_and_keep_their_statuses(
    memory_app: CraftingApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the child limit (as the benchmarks grow them), a snapshot would hold every
    adjustment ever made: they are chunked as the changes are, stored as first recorded
    (in effect), and their status is worked out from their change's chain as a chunk is
    read, whether the revert came before the chunk was stored or after."""
    monkeypatch.setitem(CHILD_LIMITS, "adjustments", 10**6)
    team = Team(memory_app)
    aid = team.active().id
    store = _store(memory_app)
    added: list[str] = []

    def add(n: int) -> None:
        for _ in range(n):
            team.run(team.manager, c.AddAdjustment(agreement_id=aid, adjustment=draft(0)))
            (last,) = memory_app.events.get(aid, desc=True, limit=1)
            added.append(last.adjustment.change_id)  # type: ignore[attr-defined]

    def revert(change_id: str) -> None:
        team.run(team.manager, c.RevertChange(agreement_id=aid, change_id=change_id, reason="r"))

    add(220)
    revert(added[150])  # before its chunk is stored
    add(130)
    revert(added[3])  # after: in the first chunk
    revert(added[7])
    revert(memory_app.repository.get(aid).head_of(added[7]))  # in effect again
    add(120)
    replay = Repository(memory_app.events)
    snapshots = list(store.get(aid))
    latest = snapshots[-1].state  # type: ignore[attr-defined]
    assert latest[CHUNKS]["adjustments"] >= 2
    assert len(orjson.loads(latest["adjustments"])) < 2 * CHUNK_ROWS
    for snapshot in snapshots:  # as `crafting verify` checks them
        derived = type(snapshot).take(replay.get(aid, version=snapshot.originator_version))  # type: ignore[attr-defined]
        assert plain(snapshot.state) == plain(derived.state)  # type: ignore[attr-defined]
    (first, second, *_) = store.stored_chunks(aid, "adjustments")
    for chunk in (first, second):  # as first recorded
        assert chunk is not None and '"REVERTED"' not in chunk and '"ACTIVE"' in chunk
    auditor = team.auditor.actor
    now = replay.get(aid)
    assert now.adjustments[_id(now, added[150])].status == "REVERTED"
    assert now.adjustments[_id(now, added[3])].status == "REVERTED"
    assert now.adjustments[_id(now, added[7])].status == "ACTIVE"
    for version in (250, 300, 355, 400, now.version - 1, now.version):
        past = memory_app.agreement_at(auditor, aid, version=version)
        expected = replay.get(aid, version=version)
        assert dict(past.adjustments) == dict(expected.adjustments)
        assert past.development_hours() == expected.development_hours()
    # A command on the latest reads no chunk (neither adjustments nor changes).
    reads = _chunk_reads(store, monkeypatch)
    memory_app.repository.cache = None  # loaded from the latest snapshot
    add(1)
    revert(added[-2])  # a recent one
    # A sketch linking a recent adjustment: its links are looked up, not the ids listed.
    recent = _id(now, added[-3])
    sketch = Sketch(
        before=(TaskBlock("t", "Testing", 100, Energy.NEUTRAL),),
        after=(CraftedBlock("a", "Testing", 100, Energy.NEUTRAL, "t", adjustment_id=recent),),
        development_reason="a test",
    )
    team.run(team.employee, c.SetSketch(agreement_id=aid, sketch=sketch))
    assert reads == []
    assert memory_app.repository.get(aid) == replay.get(aid)


def _id(agreement: Any, change_id: str) -> str:
    return str(agreement.changes[change_id].subject_id)
