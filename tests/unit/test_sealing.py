"""Sealed values (domain.sealing): only the subject's key opens them, any change to an
envelope is caught, and everything that stores or hashes an event sees the envelope."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
from eventsourcing.persistence import JSONTranscoder

from domain.integrity import event_hash, hashed_fields, plain
from domain.packing import pack, unpack
from domain.sealing import (
    PREFIX,
    Sealed,
    SealError,
    new_data_key,
    opened,
    opened_with,
    seal,
    value_key,
)
from domain.transcodings import register_all

TEXT = "Two hours a week of customer research, with Ana"


def test_only_the_subjects_key_opens_a_sealed_value() -> None:
    key = new_data_key()
    sealed = seal("emp-42", key, TEXT)
    assert opened(sealed, key) == TEXT
    assert sealed.kid == "emp-42"
    with pytest.raises(SealError):
        opened(sealed, new_data_key())


def test_the_envelope_holds_no_plaintext_and_differs_each_time() -> None:
    key = new_data_key()
    first, second = seal("emp-42", key, TEXT), seal("emp-42", key, TEXT)
    assert first != second  # a fresh salt, so a fresh value key, every time
    for sealed in (first, second):
        body = base64.urlsafe_b64decode(sealed.envelope.rsplit(".", 1)[1] + "==")
        assert TEXT.encode() not in body and "customer" not in sealed.envelope
        assert "customer" not in repr(sealed)


def test_a_changed_envelope_does_not_open() -> None:
    key = new_data_key()
    sealed = seal("emp-42", key, TEXT)
    head, body = sealed.envelope.rsplit(".", 1)
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(SealError):
        opened(Sealed(f"{head}.{flipped}"), key)
    moved = Sealed(sealed.envelope.replace("emp-42", "emp-43"))  # under another subject
    with pytest.raises(SealError):
        opened(moved, key)
    for not_sealed in ("emp-42", PREFIX + "bad kid.xyz", PREFIX + "emp-42.", "\x1es2.a.b"):
        with pytest.raises(SealError):
            Sealed(not_sealed)


def test_an_export_opens_one_value_with_its_own_key() -> None:
    key = new_data_key()
    one, other = seal("emp-42", key, TEXT), seal("emp-42", key, "another note")
    own = value_key(key, one.parts()[0])
    assert opened_with(one, own) == TEXT
    with pytest.raises(SealError):  # the commit says this key did not seal that value
        opened_with(other, own)


def test_hashes_and_stored_events_cover_the_envelope() -> None:
    sealed = seal("emp-42", new_data_key(), TEXT)
    fields = hashed_fields({"title": sealed, "reason": None})
    assert fields == {"title": sealed.envelope, "reason": None}
    assert plain([sealed]) == [sealed.envelope]
    # what the verifier rebuilds from the stored event hashes the same
    assert event_hash("s", 1, "t", fields) == event_hash(
        "s", 1, "t", json.loads(json.dumps(fields))
    )
    transcoder = JSONTranscoder()
    register_all(transcoder)
    stored = transcoder.encode({"title": sealed})
    assert TEXT.encode() not in stored
    assert transcoder.decode(stored) == {"title": sealed}


@dataclasses.dataclass(frozen=True)
class _Note:
    id: str
    text: Sealed | str  # sealed, or stored before sealing


def test_snapshots_pack_sealed_and_older_plain_text() -> None:
    sealed = seal("emp-42", new_data_key(), TEXT)
    notes = [_Note("a", sealed), _Note("b", "written before sealing")]
    packed = pack(notes, _Note)
    assert TEXT not in packed
    assert unpack(packed, _Note) == notes
