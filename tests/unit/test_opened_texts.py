"""The key ring keeps the texts it opened while the key that opened them stays cached:
a page showing 500 names decrypts each once, not on every request (nor every time the
keys are read again), and no text outlives its key (an erasure here, or a key re-read
after an erasure elsewhere)."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from domain.sealing import ERASED, Sealed, opened
from infra import keystore
from infra.keystore import KeyRing, KeyStore


def _store(tmp_path: Path) -> KeyStore:
    store = KeyStore(create_engine(f"sqlite:///{tmp_path}/keys.db"), secrets.token_bytes(32))
    store.migrate()
    return store


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every decryption the key ring makes, by envelope."""
    decrypted: list[str] = []

    def counted(sealed: Sealed, data_key: bytes) -> str:
        decrypted.append(sealed.envelope)
        return opened(sealed, data_key)

    monkeypatch.setattr(keystore, "opened", counted)
    return decrypted


def test_a_text_shown_on_every_request_is_decrypted_once_while_its_key_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = KeyRing(_store(tmp_path))
    ana, bo = keys.seal("emp-ana", "Ana Lima"), keys.seal("emp-bo", "Bo Berg")
    decrypted = _counting(monkeypatch)
    for _ in range(3):
        assert [keys.open(ana), keys.open(bo)] == ["Ana Lima", "Bo Berg"]
    assert sorted(decrypted) == sorted([ana, bo])


def test_an_erased_persons_texts_are_not_served_from_what_was_opened_before(
    tmp_path: Path,
) -> None:
    keys = KeyRing(_store(tmp_path))
    ana = keys.seal("emp-ana", "Ana Lima")
    assert keys.open(ana) == "Ana Lima"
    keys.destroy("emp-ana")
    assert keys.open(ana) == ERASED


def test_a_text_opened_before_an_erasure_elsewhere_goes_with_its_cached_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    here = KeyRing(store, cache_seconds=0.05)
    ana = here.seal("emp-ana", "Ana Lima")
    assert here.open(ana) == "Ana Lima"
    KeyRing(store).destroy("emp-ana")  # another process erases her
    time.sleep(0.1)  # past this process's key cache: the key is read again
    assert here.open(ana) == ERASED
    # ... while a text whose key is read again unchanged is not decrypted again.
    bo = here.seal("emp-bo", "Bo Berg")
    assert here.open(bo) == "Bo Berg"
    decrypted = _counting(monkeypatch)
    time.sleep(0.1)
    assert here.open(bo) == "Bo Berg"
    assert decrypted == []


def test_the_texts_kept_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keystore, "TEXTS_CACHED", 3)
    keys = KeyRing(_store(tmp_path))
    values = [keys.seal("emp-ana", f"note {i}") for i in range(7)]
    assert [keys.open(v) for v in values] == [f"note {i}" for i in range(7)]
    assert len(keys._texts) <= 3


class CountingStore(KeyStore):
    """The key store, counting the keys looked up one at a time."""

    singly: list[str]

    def data_key(self, key_id: str) -> bytes | None:
        self.singly.append(key_id)
        return super().data_key(key_id)


def test_a_page_opened_as_its_keys_go_stale_does_not_look_them_up_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CountingStore(_store(tmp_path).engine, secrets.token_bytes(32))
    store.migrate()
    object.__setattr__(store, "singly", [])
    clock = [1000.0]
    monkeypatch.setattr(keystore.time, "monotonic", lambda: clock[0])
    keys = KeyRing(store, cache_seconds=5.0)
    names = [keys.seal(f"emp-{i}", f"Person {i}") for i in range(20)]
    kids = {Sealed(n).kid for n in names}
    keys.forget_all()
    keys.prefetch(kids)  # a first page
    clock[0] += 4.5  # the next page looks its keys up just before they go stale ...
    keys.prefetch(kids)
    clock[0] += 0.6  # ... and opens its texts just after
    assert [keys.open(n) for n in names] == [f"Person {i}" for i in range(20)]
    assert store.singly == []
