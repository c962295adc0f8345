"""The audit's read of the log (`Store.rows`): on PostgreSQL its own statement, read a
batch ahead in a thread while the caller hashes; the same rows as the recorder's
`select_notifications` gives, and breaks found at the same positions."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import OperationalError

from bench.seeding import seed_store
from domain.application import commands as c
from domain.integrity import MerkleFrontier, event_hash, hashed_fields
from infra import audit, migrations
from infra.audit import store as store_module
from infra.audit.store import Store, record_hash
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from infra.signing import new_private_key, public_key_b64, signing_key, tag_key
from tests.support import Org, draft
from tests.tampering import Raw


@pytest.fixture
def postgres_container(postgres_url: str) -> Iterator[Container]:
    built = bootstrap(Settings(database_url=postgres_url, signing_key=new_private_key()))
    yield built
    built.close()


def _log(container: Container) -> tuple[UUID, Ed25519PrivateKey]:
    """Two agreements' events, interleaved, checkpointed."""
    migrations.upgrade(container.engines.writer)
    org = Org(container.app)
    first, second = org.active(), org.active()
    for hours in (1, 0.5, 0.25):
        for agreement in (first, second):
            org.run(
                org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(hours))
            )
    key = signing_key(container.settings)
    assert audit.sign_checkpoint(container.store, key) is not None
    return first.id, key


def _notifications(store: Store, after: int, until: int | None) -> list[tuple[Any, ...]]:
    """The rows as the recorder's own read gives them."""
    found, position = [], after
    while batch := store.recorder.select_notifications(position + 1, 3, stop=until):
        found += [
            (n.id, str(n.originator_id), n.originator_version, n.topic, n.state) for n in batch
        ]
        position = batch[-1].id
    return found


@pytest.mark.parametrize("batch", [2, 5000])
def test_the_rows_are_the_recorders_in_every_batch_size(
    container: Container, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    _log(container)
    monkeypatch.setattr(store_module, "BATCH", batch)
    store = container.store
    head = store.recorder.max_notification_id() or 0
    assert head > 10
    for after, until in ((0, None), (0, head), (3, 7), (4, 5), (head, None)):
        rows = list(store.rows(after, until))
        assert rows == _notifications(store, after, until)
        assert all(type(row[4]) is bytes and type(row[1]) is str for row in rows)
    everything = store.recorder.select_notifications(1, head)
    assert list(store.records()) == [store.record(n) for n in everything]


@pytest.mark.postgres
def test_on_postgresql_the_next_batch_is_read_while_this_one_is_hashed(
    postgres_container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _log(postgres_container)
    monkeypatch.setattr(store_module, "BATCH", 2)
    store = postgres_container.store
    fetch = store._batches()
    assert fetch is not None
    reads: list[tuple[int, str]] = []
    second = threading.Event()

    def counted(after: int, until: int | None) -> list[Any]:
        reads.append((after, threading.current_thread().name))
        if len(reads) == 2:
            second.set()
        return fetch(after, until)

    monkeypatch.setattr(Store, "_batches", lambda self: counted)
    rows = store.rows()
    first = next(rows)  # the first batch's first row, nothing more asked for
    assert second.wait(10), "the second batch was not read ahead"
    assert reads[1][0] == first[0] + 1  # after the first batch's last row
    assert all(name.startswith("audit-read") for _, name in reads)
    rest = list(rows)
    assert [first, *rest] == _notifications(store, 0, None)
    # One statement per batch, and one more that found the end.
    assert len(reads) == (len(rest) + 1 + 1) // 2 + 1


def _verify(container: Container, key: Ed25519PrivateKey) -> Any:
    return audit.verify_store(container.store, public_key_b64(key)).first_break


def _edit_payload(raw: Raw, aid: UUID) -> None:
    state = raw.state(aid, 2)
    raw.set_state(aid, 2, state.replace(b'"review_every_days":14', b'"review_every_days":15'))


def _delete(raw: Raw, aid: UUID) -> None:
    raw.run("DELETE FROM {t} WHERE originator_id = ? AND originator_version = 3", raw.key(aid))


@pytest.mark.parametrize("tamper", [_edit_payload, _delete])
def test_a_break_is_found_at_the_same_position_whatever_the_batch(
    container: Container, monkeypatch: pytest.MonkeyPatch, tamper: Callable[[Raw, UUID], None]
) -> None:
    aid, key = _log(container)
    tamper(Raw(container), aid)
    found = []
    for batch in (5000, 3, 2, 1):
        monkeypatch.setattr(store_module, "BATCH", batch)
        found.append(_verify(container, key))
    assert found[0] is not None
    assert found[0].stream == str(aid)
    assert found == [found[0]] * 4


def test_a_reader_stopped_early_leaves_the_store_usable(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = _log(container)
    monkeypatch.setattr(store_module, "BATCH", 2)
    for _ in range(30):  # more than the pool's connections, were one kept each time
        rows = container.store.rows()
        next(rows)
        rows.close()
    assert _verify(container, key) is None


def test_a_realistic_log_is_sealed_to_the_root_its_definition_gives(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint's root and every event hash, taken by the audit's reader (its own
    statement, read ahead, the shortcut walk, orjson's encoding), are those of the
    definition: the recorder's notifications, the transcoder's decoding,
    `domain.integrity.event_hash` of `hashed_fields`, RFC 6962's tree."""
    migrations.upgrade(container.engines.writer)
    key = signing_key(container.settings)
    seed_store(
        container, 1500, chunk=500, people=30, live=40, in_process=True, tag=tag_key(key, "events")
    )
    monkeypatch.setattr(store_module, "BATCH", 400)  # several batches, one partly filled
    checkpoint = audit.sign_checkpoint(container.store, key)
    assert checkpoint is not None and checkpoint.position == 1500
    recorder, transcoder = container.store.recorder, container.store.transcoder
    tree, hashes = MerkleFrontier(), []
    for n in recorder.select_notifications(1, 2000):
        digest = event_hash(
            str(n.originator_id),
            n.originator_version,
            n.topic,
            hashed_fields(transcoder.decode(n.state)),
        )
        hashes.append(digest)
        tree.append(digest)
    assert (checkpoint.size, checkpoint.root) == (tree.size, tree.root())
    assert [record_hash(r) for r in container.store.records()] == hashes
    result = audit.verify_store(
        container.store, public_key_b64(key), events_key=tag_key(key, "events")
    )
    assert result.first_break is None and result.events == 1500 and result.checkpoints == 1


@pytest.mark.postgres
def test_a_lost_connection_is_retried_as_the_recorder_retries_it(
    postgres_container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _log(postgres_container)
    store = postgres_container.store
    datastore = store.recorder.datastore  # type: ignore[attr-defined]
    transaction = datastore.transaction
    failures = [OperationalError("server closed the connection unexpectedly")]

    def flaky(*, commit: bool = False) -> Any:
        if failures:
            raise failures.pop()
        return transaction(commit=commit)

    monkeypatch.setattr(datastore, "transaction", flaky)
    assert list(store.rows()) == _notifications(store, 0, None)
    assert failures == []
