"""The key store (infra/keystore.py), on both databases: one key per subject even when
writers race, destroyed for good, and useless without the master key."""

from __future__ import annotations

import secrets
import threading

import pytest
from sqlalchemy import select

from domain.sealing import KeysUnavailable
from infra.bootstrap import Container
from infra.keystore import UNREADABLE_KEY, KeyStore, SubjectErased, data_keys

WRITERS = 8


@pytest.fixture
def store(container: Container) -> KeyStore:
    keys = KeyStore(container.engines.writer, secrets.token_bytes(32))
    keys.migrate()
    return keys


def test_a_subject_has_one_key_even_when_writers_race(store: KeyStore) -> None:
    barrier = threading.Barrier(WRITERS)
    found: list[tuple[str, bytes]] = []

    def ask() -> None:
        barrier.wait()
        found.append(store.key_for("emp-42"))

    threads = [threading.Thread(target=ask) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == WRITERS and len(set(found)) == 1
    key_id, data_key = found[0]
    assert store.data_key(key_id) == data_key
    with store.engine.connect() as conn:
        (wrapped,) = conn.execute(select(data_keys.c.wrapped)).one()
    assert data_key not in bytes(wrapped)  # stored wrapped, never as it is


def test_keys_made_in_bulk_are_the_keys_key_for_gives_and_keep_existing_ones(
    store: KeyStore,
) -> None:
    before = store.key_for("emp-1")
    store.destroy("emp-2")
    store.make_keys(["emp-1", "emp-2", "emp-3", "emp-4"], chunk=2)
    assert store.key_for("emp-1") == before  # a subject with a key keeps it
    with pytest.raises(SubjectErased):
        store.key_for("emp-2")  # an erased subject gets no new key
    made = store.key_for("emp-3")
    assert store.data_key(made[0]) == made[1] and len(made[1]) == 32
    assert store.key_for("emp-4") != made  # one key per subject
    with store.engine.connect() as conn:
        assert len(conn.execute(select(data_keys.c.subject_id)).all()) == 4


def test_a_destroyed_key_stays_destroyed(store: KeyStore) -> None:
    key_id, _ = store.key_for("emp-42")
    store.destroy("emp-42")
    store.destroy("emp-42")  # again: nothing more to do
    assert store.data_key(key_id) is None
    with pytest.raises(SubjectErased):
        store.key_for("emp-42")  # no new key for an erased subject
    store.destroy("never-keyed")
    with pytest.raises(SubjectErased):
        store.key_for("never-keyed")
    with pytest.raises(KeyError):
        store.data_key("no-such-key")


def test_a_destruction_commits_with_its_transaction_or_not_at_all(store: KeyStore) -> None:
    key_id, data_key = store.key_for("emp-42")

    def erase_then_fail() -> None:
        with store.engine.begin() as conn:
            store.destroy("emp-42", conn)
            raise RuntimeError("the erasure's other writes failed")

    with pytest.raises(RuntimeError):
        erase_then_fail()
    assert store.data_key(key_id) == data_key
    with store.engine.begin() as conn:
        store.destroy("emp-42", conn)
    assert store.data_key(key_id) is None


def test_keys_do_not_open_without_the_master_key(store: KeyStore) -> None:
    key_id, _ = store.key_for("emp-42")
    other = KeyStore(store.engine, secrets.token_bytes(32))
    # Unreadable, never a key and never "erased"; and nothing can be sealed with it.
    assert other.data_key(key_id) == UNREADABLE_KEY
    assert other.data_keys([key_id]) == {key_id: UNREADABLE_KEY}
    with pytest.raises(KeysUnavailable):
        other.key_for("emp-42")
    assert store.master_key.hex() not in repr(store)
