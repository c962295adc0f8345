"""What a page makes of the same sealed rows on every request (the agreement page's
receiver list: hundreds of names opened, sorted and rendered) is made once and kept by
the key ring while every key that opened them stays cached as it was; never longer: an
erasure here drops it at once, an erasure elsewhere once the key is read again."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from domain.sealing import ERASED, Kept, opened_in
from infra import keystore
from infra.keystore import KeyRing, KeyStore


def _store(tmp_path: Path) -> KeyStore:
    store = KeyStore(create_engine(f"sqlite:///{tmp_path}/keys.db"), secrets.token_bytes(32))
    store.migrate()
    return store


made: list[list[tuple[Any, ...]]] = []


def joined(rows: list[tuple[Any, ...]]) -> str:
    """What a page makes of the rows (each call counted)."""
    made.append(rows)
    return "; ".join(f"{pid}={name}" for pid, name in rows)


def _rows(keys: KeyRing, *people: str) -> tuple[tuple[str, str], ...]:
    return tuple((p, keys.seal(p, p.title())) for p in people)


def _page(keys: KeyRing, rows: tuple[tuple[str, str], ...]) -> Any:
    """A page's read as `Reads.run` opens it: the kept rows among other values."""
    return opened_in({"title": "A plan", "receivers": Kept(rows, joined)}, keys)["receivers"]


def test_rows_shown_on_every_request_are_opened_and_made_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = KeyRing(_store(tmp_path))
    rows = _rows(keys, "ana", "bo")
    made.clear()
    opens: list[str] = []
    real_open = keys.open
    monkeypatch.setattr(keys, "open", lambda e: opens.append(e) or real_open(e))
    for _ in range(3):
        assert _page(keys, rows) == "ana=Ana; bo=Bo"
    assert len(made) == 1 and len(opens) == 2
    # Other rows (a name changed: another envelope) are made of their own.
    changed = (rows[0], ("bo", keys.seal("bo", "Bo Berg")))
    assert _page(keys, changed) == "ana=Ana; bo=Bo Berg"
    assert len(made) == 2


def test_without_a_key_ring_that_keeps_the_rows_are_made_each_time(tmp_path: Path) -> None:
    keys = KeyRing(_store(tmp_path))
    rows = _rows(keys, "ana")

    class Plain:  # the domain's `Keys`, no `kept`
        def open(self, envelope: str) -> str:
            return keys.open(envelope)

        def prefetch(self, kids: set[str]) -> None:
            keys.prefetch(kids)

    made.clear()
    for _ in range(2):
        assert opened_in([Kept(rows, joined)], Plain()) == ["ana=Ana"]
    assert len(made) == 2


def test_an_erasure_here_drops_what_was_made(tmp_path: Path) -> None:
    keys = KeyRing(_store(tmp_path))
    rows = _rows(keys, "ana", "bo")
    assert _page(keys, rows) == "ana=Ana; bo=Bo"
    keys.destroy("ana")
    assert _page(keys, rows) == f"ana={ERASED}; bo=Bo"


def test_an_erasure_elsewhere_shows_once_the_key_ring_would_refuse_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    clock = [1000.0]
    monkeypatch.setattr(keystore.time, "monotonic", lambda: clock[0])
    here = KeyRing(store, cache_seconds=5.0)
    rows = _rows(here, "ana", "bo")
    here.forget_all()
    assert _page(here, rows) == "ana=Ana; bo=Bo"
    KeyRing(store).destroy("ana")  # another process erases her
    clock[0] += 4.9  # within the key's cache time, as `open` would still show her
    assert here.open(rows[0][1]) == "Ana" and _page(here, rows) == "ana=Ana; bo=Bo"
    clock[0] += 0.2  # past it: the key ring reads her key again, and so does the page
    assert _page(here, rows) == f"ana={ERASED}; bo=Bo"
    assert here.open(rows[0][1]) == ERASED


def test_a_key_read_again_makes_the_rows_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept while the very key entries that opened them are cached: an entry read again
    (after its cache time, or by another page's look-up) makes the rows again."""
    clock = [1000.0]
    monkeypatch.setattr(keystore.time, "monotonic", lambda: clock[0])
    keys = KeyRing(_store(tmp_path), cache_seconds=5.0)
    rows = _rows(keys, "ana", "bo")
    made.clear()
    _page(keys, rows)
    clock[0] += 4.5
    _page(keys, rows)
    assert len(made) == 1
    keys.prefetch({kid for kid in keystore.key_ids_in(rows)})  # refreshed ahead
    _page(keys, rows)
    assert len(made) == 2
    clock[0] += 5.1
    _page(keys, rows)
    assert len(made) == 3


def test_what_is_kept_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keystore, "KEPT_MADE", 3)
    keys = KeyRing(_store(tmp_path))
    for i in range(7):
        assert _page(keys, _rows(keys, f"p{i}")) == f"p{i}=P{i}"
    assert len(keys._kept) <= 3
