"""Sealed values (domain.sealing): only the subject's key opens them, any change to an
envelope is caught, and everything that stores or hashes an event sees the envelope."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, ClassVar, cast

import pytest
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

from domain import sealing
from domain.event_tags import TaggingMapper
from domain.integrity import event_hash, hashed_fields
from domain.metadata import Meta
from domain.packing import OpenedRows, RecordLog, RecordTable, SealedRows, pack, pack_by_id, unpack
from domain.person import Person, Profile
from domain.sealing import (
    ERASED,
    PREFIX,
    Opened,
    Sealed,
    SealError,
    SubjectErased,
    escape_in,
    holds_clear_text,
    new_data_key,
    open_text,
    opened,
    opened_all,
    opened_in,
    opened_with,
    seal,
    sealing_with,
    value_key,
)
from domain.transcodings import register_all

TEXT = "Two hours a week of customer research, with Ana"
PROFILE = Profile("Ana Lima", "ana.lima@example.org", None, "qa", 40, active=True)


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


class MemoryKeys:
    """The domain's `Keys` in memory: one key per subject, destroyable."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, bytes]] = {}
        self.destroyed: set[str] = set()

    def seal(self, subject_id: str, text: str) -> str:
        if subject_id in self.destroyed:
            raise SubjectErased(subject_id)
        kid, key = self.keys.setdefault(subject_id, (f"k{len(self.keys)}", new_data_key()))
        return seal(kid, key, text).envelope

    def open(self, envelope: str) -> str:
        sealed = Sealed(envelope)
        for subject, (kid, key) in self.keys.items():
            if kid == sealed.kid:
                return ERASED if subject in self.destroyed else opened(sealed, key)
        return ERASED

    def prefetch(self, kids: set[str]) -> None:
        pass

    def forget(self, subject_id: str) -> None:
        pass

    def destroy(self, subject_id: str) -> None:
        self.destroyed.add(subject_id)


def _mapper(keys: MemoryKeys) -> TaggingMapper:
    transcoder = JSONTranscoder()
    for library_own in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(library_own)
    register_all(transcoder)
    return TaggingMapper(transcoder, None, keys=keys)


def test_events_hold_text_in_memory_and_store_and_hash_the_envelope() -> None:
    keys = MemoryKeys()
    meta = Meta(actor_id="hr", actor_role="HR", correlation_id="c", reason="Because " + TEXT)
    with sealing_with(keys):
        person = Person.register("emp-42", PROFILE, meta)
    (event,) = person.collect_events()
    assert person.profile == PROFILE  # the rules read text
    assert isinstance(person.profile.display_name, Opened)
    mapper = _mapper(keys)
    stored = mapper.to_stored_event(event)
    for text in (PROFILE.display_name, PROFILE.email, TEXT):
        assert text.encode() not in stored.state
    # The hash covers the envelope: the domain's and the verifier's (from the stored
    # JSON) are the same.
    state = mapper.transcoder.decode(stored.state)
    state.pop("_tag", None)
    assert event.chain_hash() == event_hash(
        str(event.originator_id), 1, stored.topic, hashed_fields(state)
    )
    back = _mapper(keys).to_domain_event(stored)
    assert vars(back)["profile"] == PROFILE and vars(back)["reason"] == "Because " + TEXT
    keys.destroyed.add("emp-42")
    erased = _mapper(keys).to_domain_event(stored)
    assert vars(erased)["profile"].display_name == ERASED
    assert cast(Any, erased).chain_hash() == event.chain_hash()  # still verifies


def test_nothing_new_is_written_about_an_erased_subject() -> None:
    keys = MemoryKeys()
    keys.destroyed.add("emp-42")
    meta = Meta(actor_id="hr", actor_role="HR", correlation_id="c", reason="why")
    with sealing_with(keys):
        person = Person.register("emp-42", PROFILE, meta)
    assert person.profile.display_name == ERASED and person.profile.email == ERASED


def test_an_erasure_records_hr_s_reason_in_clear_and_every_other_reason_sealed() -> None:
    keys = MemoryKeys()
    meta = Meta(actor_id="hr", actor_role="HR", correlation_id="c", reason="Art. 17 request")
    with sealing_with(keys):
        person = Person.register("emp-42", PROFILE, meta)
        person.place_hold(meta)
        person.lift_hold(meta)
        person.erase(meta)
    registered, placed, lifted, erased = person.collect_events()
    assert all(isinstance(e.reason, Opened) for e in (registered, placed, lifted))
    assert erased.reason == "Art. 17 request" and not isinstance(erased.reason, Opened)
    assert not holds_clear_text(vars(erased), type(erased).NOT_PERSONAL)  # HR's, not theirs
    mapper = _mapper(keys)
    stored = mapper.to_stored_event(erased)
    assert b"Art. 17 request" in stored.state
    keys.destroy("emp-42")
    back = _mapper(keys).to_domain_event(stored)
    assert vars(back)["reason"] == "Art. 17 request"  # readable after the key is gone
    assert cast(Any, back).chain_hash() == erased.chain_hash()
    assert vars(_mapper(keys).to_domain_event(mapper.to_stored_event(placed)))["reason"] == ERASED


@dataclasses.dataclass(frozen=True)
class _Note:
    PERSONAL: ClassVar[tuple[str, ...]] = ("text",)

    id: str
    text: str


def test_snapshots_pack_sealed_text_as_envelopes() -> None:
    keys = MemoryKeys()
    sealed = Opened(TEXT, keys.seal("emp-42", TEXT))
    notes = [_Note("a", sealed), _Note("b", "written before sealing")]
    packed = pack(notes, _Note)
    assert TEXT not in packed and sealed.envelope.replace("\x1e", "\\u001e") in packed
    rows = OpenedRows(opened_all(json.loads(packed), keys))
    assert unpack(rows, _Note) == notes
    assert isinstance(unpack(rows, _Note)[0].text, Opened)


def test_a_snapshots_records_are_opened_only_as_they_are_read() -> None:
    """Each sealed value is a decryption: a lookup opens the records it reads."""
    keys = MemoryKeys()
    notes = [_Note(str(i), Opened(TEXT, keys.seal("emp-42", TEXT))) for i in range(3)]
    read: list[str] = []

    def opener(row: list[Any]) -> Any:
        read.append(row[0])
        return opened_all(row, keys)

    table: RecordTable[_Note] = RecordTable(
        _Note, SealedRows(json.loads(pack(notes, _Note)), opener)
    )
    assert table["1"] == notes[1]
    assert isinstance(table["1"].text, Opened)
    assert read == ["1"]
    assert pack_by_id(table, _Note) == pack(notes, _Note)  # the others stay sealed rows
    log = RecordLog(_Note, packed=SealedRows(json.loads(pack(notes, _Note)), opener))
    assert list(log) == notes
    assert read == ["1", "0", "1", "2"]


def test_text_leaving_the_service_is_opened_also_inside_json() -> None:
    keys = MemoryKeys()
    envelope = keys.seal("emp-42", 'She said "yes"')
    assert open_text(f"x {envelope} y", keys) == 'x She said "yes" y'
    as_json = json.dumps({"notes": envelope})
    assert json.loads(open_text(as_json, keys)) == {"notes": 'She said "yes"'}
    keys.destroyed.add("emp-42")
    assert opened_in({"a": [envelope]}, keys) == {"a": [ERASED]}


def test_read_rows_are_opened_wherever_their_envelopes_are_and_left_alone_elsewhere() -> None:
    keys = MemoryKeys()
    name, note = keys.seal("emp-1", "Ana Lima"), keys.seal("emp-1", "Fine\nweek")
    when, day = datetime(2026, 12, 5, 9, 30, tzinfo=UTC), date(2026, 12, 5)
    looked_up: list[set[str]] = []
    keys.prefetch = looked_up.append  # type: ignore[method-assign]
    rows = (
        [
            {"id": 1, "name": name, "hours": 2.5, "active": True, "gone": None, "at": when},
            {"id": 2, "name": "plain", "notes": f"{note} / {name}", "on": day},
        ],
        {"payload": json.dumps({"n": name}), "tags": [name, "x", 3]},
    )
    assert opened_in(rows, keys) == (
        [
            {"id": 1, "name": "Ana Lima", "hours": 2.5, "active": True, "gone": None, "at": when},
            {"id": 2, "name": "plain", "notes": "Fine\nweek / Ana Lima", "on": day},
        ],
        {"payload": '{"n": "Ana Lima"}', "tags": ["Ana Lima", "x", 3]},
    )
    assert looked_up == [{Sealed(name).kid}]  # every key a page needs, at once
    plain = [{"id": 1, "name": "plain", "at": when}]
    assert opened_in(plain, keys) is plain  # nothing sealed: nothing copied


class _CountedPattern:
    """A compiled pattern whose searches (every match found in a text) are counted."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.searches = pattern, 0

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.pattern.fullmatch(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        self.searches += 1
        return self.pattern.finditer(text)

    def sub(self, repl: Any, text: str) -> str:
        self.searches += 1
        return self.pattern.sub(repl, text)


def test_a_value_that_is_one_envelope_has_its_key_found_without_a_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page of names (the agreement page's 500 receivers) is walked for the keys it
    needs: a value that is one envelope is matched once, not searched; a text holding
    envelopes among other words still is, and every key is found either way."""
    keys = MemoryKeys()
    names = [keys.seal(f"emp-{i}", f"Person {i}") for i in range(50)]
    mixed = f"asked by {keys.seal('emp-x', 'Ana')} today"
    counted = _CountedPattern(sealing._ENVELOPE)
    monkeypatch.setattr(sealing, "_ENVELOPE", counted)
    looked_up: list[set[str]] = []
    keys.prefetch = looked_up.append  # type: ignore[method-assign]
    rows = [{"person_id": f"emp-{i}", "display_name": n} for i, n in enumerate(names)]
    assert opened_in(rows, keys) == [
        {"person_id": f"emp-{i}", "display_name": f"Person {i}"} for i in range(50)
    ]
    assert counted.searches == 0
    assert looked_up == [{Sealed(n).kid for n in names}]
    assert opened_in([{"reason": mixed}], keys) == [{"reason": "asked by Ana today"}]
    assert counted.searches == 2  # the key looked for, then the text opened


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain",
        "\\",
        "\\u001",
        "\\u00",
        '{"a":"\\u001es1.k.x"}',
        '{"a":"\\\\u001es1.k.x"}',  # an escaped backslash, then "u001": `in` says yes too
        '{"a":"\\n\\"' * 40 + '\\u001es1.k.x"}',  # past the hops: the whole scan
        '{"a":"\\n\\"' * 40 + '"}',
        '{"a":"\\n"' * 16 + "\\u001",  # exactly the hops, then at the end
        '{"a":"\\n"' * 16 + "\\",
        "x" * 300_000 + "\\u001e",
    ],
)
def test_escape_in_is_the_plain_test(text: str) -> None:
    assert escape_in(text) is ("\\u001" in text)


def test_a_page_of_json_is_not_scanned_character_by_character() -> None:
    """A compiled page (255 KB, no backslash) was tested with `"\\u001" in page` on
    every request: ~1 ns a character, 0.3 ms. Looking for its envelopes now finds the
    backslashes by memchr (`find` of one character) and makes no multi-character scan."""
    page = '{"edges":[' + ",".join(['{"node":{"title":"x","n":1.0}}'] * 8000) + "]}"
    scans: list[str] = []

    class Watched(str):
        def find(self, sub: str, *args: Any) -> int:
            scans.append(sub)
            return super().find(sub, *args)

        def __contains__(self, sub: object) -> bool:
            scans.append(str(sub))
            return super().__contains__(str(sub))

    assert opened_in(Watched(page), cast(Any, None)) == page  # no envelope: no key asked
    assert all(len(sub) == 1 for sub in scans), scans
