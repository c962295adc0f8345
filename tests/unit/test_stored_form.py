"""The audit's shortcut from stored JSON to hashed fields (infra.audit.stored_form)
gives exactly what the transcoder's decoding and `hashed_fields` give — or raises
what they raise — for every kind of stored event and for JSON no service wrote; and
the event hash the audit takes from it (orjson's canonical encoding when the reading
is exact) is `domain.integrity.event_hash` of those fields."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.seeding import stored_chunks
from domain.application import CraftingApplication
from domain.integrity import TAG_FIELD, event_hash, hashed_fields
from domain.records import Review
from domain.transcodings import RecordAsDict
from domain.values import ReviewOutcome
from infra.audit import stored_form
from infra.audit.store import ExactRecord, Store, record_hash
from infra.audit.stored_form import StoredForm


@pytest.fixture(scope="module")
def transcoder() -> JSONTranscoder:
    app = CraftingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    found = app.mapper.transcoder
    assert isinstance(found, JSONTranscoder)
    return found


STREAM = str(UUID(int=3))


def _slow(transcoder: JSONTranscoder, data: bytes) -> tuple[str, Any]:
    """(fields, tag, event hash) by the definition: the transcoder, then `plain`."""
    try:
        state = transcoder.decode(data)
        fields = hashed_fields(state)
        return "ok", (fields, state.get(TAG_FIELD), event_hash(STREAM, 2, "t:T", fields))
    except Exception as e:
        return "error", type(e)


def _fast(form: StoredForm, data: bytes) -> tuple[str, Any]:
    """The same as the audit reads an event (`Store.record_of`) and hashes it."""
    store = Store(None, form.transcoder, None)  # type: ignore[arg-type] - only the reader
    store.__dict__["form"] = form  # the cached reader, as a store keeps one
    try:
        record = store.record_of(StoredEvent(UUID(STREAM), 2, "t:T", data), 2)
        return "ok", (record.fields, record.tag, record_hash(record))
    except Exception as e:
        return "error", type(e)


def test_a_realistic_log_reads_the_same_both_ways(transcoder: JSONTranscoder) -> None:
    app = CraftingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.mapper.key = b"k" * 32  # type: ignore[attr-defined] - tagged as the service tags
    form = StoredForm(transcoder)
    topics = set()
    for chunk in stored_chunks(app.mapper, 4000, 500, people=40, live=60, seed=7):
        for stored in chunk:
            topics.add(stored.topic)
            fast = _fast(form, stored.state)
            assert fast == _slow(transcoder, stored.state)
            assert isinstance(fast[1][1], str)
    assert len(topics) >= 15  # agreements, people, the ledger, idempotency records


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_every_record_type_reads_the_same_both_ways(
    transcoder: JSONTranscoder, data: st.DataObject
) -> None:
    form = StoredForm(transcoder)
    records = [t for t in transcoder.names.values() if isinstance(t, RecordAsDict)]
    assert len(records) >= 14
    values = {t.name: data.draw(st.from_type(t.type)) for t in records}
    values["at"] = data.draw(st.datetimes(timezones=st.just(UTC)))
    values["on"] = data.draw(st.dates())
    values["id"] = data.draw(st.uuids())
    stored = transcoder.encode(values)
    assert _fast(form, stored) == _slow(transcoder, stored)


TYPED = ["datetime_iso", "date", "uuid_hex", "decimal_str", "Review", "Guardrails", "Nope"]
json_leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
# Stored-looking JSON no service wrote: typed values with wrong data, records with
# fields missing or extra, enums and tuples holding what their type refuses.
dates_ish = st.sampled_from(
    ["2026-12-05", "2026-12-05T10:00:00+00:00", "2026-12-05T10:00:00.5+00:00", "20261205", "x"]
)
uuids_ish = st.sampled_from([UUID(int=7).hex, str(UUID(int=7)), "zz", ""])


def _typed(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    a_date = st.fixed_dictionaries({"_type_": st.just("date"), "_data_": dates_ish})
    review = st.fixed_dictionaries(
        {
            "id": st.text(max_size=3),
            "held_on": a_date | children,
            "outcome": st.sampled_from(["ON_TRACK", "AT_RISK", "bogus", 3, None]),
            "notes": st.none() | st.text(max_size=3),
            "next_review_on": a_date,
            "held_by": st.text(max_size=3),
        },
        optional={"extra": children},
    )
    guardrails = st.fixed_dictionaries(
        {
            "max_development_hours_per_week": st.floats(allow_nan=False) | st.integers(),
            "protected_responsibilities": st.lists(st.text(max_size=3)) | st.text(max_size=3),
            "review_every_days": st.integers() | st.none(),
        },
        optional={"ends_on": a_date | st.none()},
    )
    return st.one_of(
        st.fixed_dictionaries({"_type_": st.sampled_from(TYPED), "_data_": children}),
        st.fixed_dictionaries(
            {"_type_": st.sampled_from(["date", "datetime_iso"]), "_data_": dates_ish}
        ),
        st.fixed_dictionaries({"_type_": st.just("uuid_hex"), "_data_": uuids_ish}),
        st.fixed_dictionaries({"_type_": st.just("Review"), "_data_": review}),
        st.fixed_dictionaries({"_type_": st.just("Guardrails"), "_data_": guardrails}),
        st.fixed_dictionaries({"_type_": st.just("date")}),  # one key: a plain dict
    )


trees = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=4), children, max_size=3)
        | _typed(children)
    ),
    max_leaves=12,
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["a", "b", TAG_FIELD, "class_version"]), trees))
def test_json_no_service_wrote_reads_the_same_both_ways(
    transcoder: JSONTranscoder, state: dict[str, Any]
) -> None:
    stored = json.dumps(state).encode()
    assert _fast(StoredForm(transcoder), stored) == _slow(transcoder, stored)


def test_what_the_service_writes_takes_the_shortcut(transcoder: JSONTranscoder) -> None:
    """Not only the fallback is tested: the service's values never need it."""
    form = StoredForm(transcoder)
    review = Review("r1", date(2026, 12, 5), ReviewOutcome.AT_RISK, None, date(2026, 12, 19), "m")
    stored = transcoder.encode(
        {"at": datetime(2026, 12, 5, tzinfo=UTC), "id": UUID(int=1), "review": review}
    )
    form.transcoder = None  # type: ignore[assignment] - a fallback would fail
    assert form.read(stored) == (
        {
            "at": "2026-12-05T00:00:00+00:00",
            "id": str(UUID(int=1)),
            "review": {
                "id": "r1",
                "held_on": "2026-12-05",
                "outcome": "AT_RISK",
                "notes": None,
                "next_review_on": "2026-12-19",
                "held_by": "m",
            },
        },
        None,
    )


REVIEW = {
    "id": "r1",
    "held_on": {"_type_": "date", "_data_": "2026-12-05"},
    "outcome": "AT_RISK",
    "notes": None,
    "next_review_on": {"_type_": "date", "_data_": "2026-12-19"},
    "held_by": "m",
}
GUARDRAILS = {
    "max_development_hours_per_week": 4,
    "protected_responsibilities": ["on-call"],
    "review_every_days": 14,
    "ends_on": None,
}


@pytest.mark.parametrize(
    "value",
    [
        {"_type_": "Review", "_data_": REVIEW},
        {"_type_": "Review", "_data_": {**REVIEW, "outcome": "bogus"}},
        {"_type_": "Review", "_data_": {**REVIEW, "outcome": None}},
        {"_type_": "Review", "_data_": {**REVIEW, "extra": 1}},
        {"_type_": "Review", "_data_": {k: v for k, v in REVIEW.items() if k != "notes"}},
        {"_type_": "Guardrails", "_data_": GUARDRAILS},
        {"_type_": "Guardrails", "_data_": {**GUARDRAILS, "protected_responsibilities": "ab"}},
        {"_type_": "Guardrails", "_data_": {**GUARDRAILS, "protected_responsibilities": None}},
        {"_type_": "Guardrails", "_data_": {k: v for k, v in GUARDRAILS.items() if k != "ends_on"}},
        {"_type_": "date", "_data_": "20261205"},
        {"_type_": "datetime_iso", "_data_": "2026-12-05T10:00:00.5+00:00"},
        {"_type_": "datetime_iso", "_data_": 5},
        {"_type_": "uuid_hex", "_data_": str(UUID(int=7))},
        {"_type_": "decimal_str", "_data_": "1.50"},
        {"_type_": "unknown", "_data_": 1},
    ],
)
def test_each_stored_value_reads_the_same_both_ways(
    transcoder: JSONTranscoder, value: dict[str, Any]
) -> None:
    stored = json.dumps({"value": value, TAG_FIELD: "t"}).encode()
    assert _fast(StoredForm(transcoder), stored) == _slow(transcoder, stored)


def test_the_service_log_is_read_exact(transcoder: JSONTranscoder) -> None:
    """orjson's path is the common one (hours such as 40.0 included), not the fallback."""
    app = CraftingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    form = StoredForm(transcoder)
    chunks = stored_chunks(app.mapper, 2000, 500, people=20, live=30, seed=3)
    readings = [form.read_exact(stored.state) for chunk in chunks for stored in chunk]
    assert readings and all(exact for _, _, exact in readings)


@pytest.mark.parametrize(
    ("value", "exact"),
    [
        (40.0, True),
        (-0.0, True),
        (0.001, True),
        (999999999999999.9, True),
        (1e-05, False),  # orjson writes 0.00001, the standard library 1e-05
        (1e-07, False),  # 1e-7 against 1e-07
        (1e15, False),
        (1e16, False),
        (1.5e300, False),
        (2**64, False),  # orjson reads it as a float
        (-(2**63) - 1, False),
        (2**63, True),
        (float("inf"), False),  # the canonical encoding refuses it either way
    ],
)
def test_numbers_orjson_writes_otherwise_are_hashed_as_the_standard_library_writes(
    transcoder: JSONTranscoder, value: float | int, exact: bool
) -> None:
    stored = json.dumps({"hours": value, "nested": [{"h": value}], TAG_FIELD: "t"}).encode()
    form = StoredForm(transcoder)
    assert _fast(form, stored) == _slow(transcoder, stored)
    assert form.read_exact(stored)[2] is exact


def test_an_event_nested_deeper_than_orjson_writes_is_hashed_all_the_same(
    transcoder: JSONTranscoder,
) -> None:
    deep: Any = "leaf"
    for _ in range(300):
        deep = [deep]
    stored = json.dumps({"deep": deep, TAG_FIELD: "t"}).encode()
    form = StoredForm(transcoder)
    assert form.read_exact(stored)[2] is True
    fast = _fast(form, stored)
    assert fast[0] == "ok"
    assert fast == _slow(transcoder, stored)


def test_an_exact_record_hashes_as_the_domain_does() -> None:
    fields = {"b": [1, "é\x1e", None, True], "a": {"z": 40.0, "y": "\u2028"}}
    record = ExactRecord(5, STREAM, 2, "t:T", fields)
    assert record_hash(record) == event_hash(STREAM, 2, "t:T", fields)


def test_the_fields_are_made_in_the_decoded_tree_itself(
    transcoder: JSONTranscoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No second tree is built: the typed values are replaced where they were decoded."""
    decoded: list[Any] = []

    class Loads:
        JSONDecodeError = orjson.JSONDecodeError

        @staticmethod
        def loads(data: bytes) -> Any:
            tree = orjson.loads(data)
            decoded.append((tree, tree["review"]["_data_"]))
            return tree

    monkeypatch.setattr(stored_form, "orjson", Loads)
    stored = json.dumps({"review": {"_type_": "Review", "_data_": REVIEW}, TAG_FIELD: "t"})
    fields, tag, exact = StoredForm(transcoder).read_exact(stored.encode())
    ((tree, review),) = decoded
    assert fields is tree and fields["review"] is review and exact
    assert fields == {"review": {**REVIEW, "held_on": "2026-12-05", "next_review_on": "2026-12-19"}}
    assert tag == "t"


def test_an_enum_value_is_looked_up_not_called(
    transcoder: JSONTranscoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = StoredForm(transcoder)
    calls: list[Any] = []
    call = type(ReviewOutcome).__call__

    def counted(cls: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        if cls is ReviewOutcome:
            calls.append(value)
        return call(cls, value, *args, **kwargs)

    monkeypatch.setattr(type(ReviewOutcome), "__call__", counted)
    good = json.dumps({"review": {"_type_": "Review", "_data_": REVIEW}}).encode()
    assert form.read(good)[0]["review"]["outcome"] == "AT_RISK"
    assert calls == []
    bad = {"review": {"_type_": "Review", "_data_": {**REVIEW, "outcome": "bogus"}}}
    with pytest.raises(ValueError, match="bogus"):  # as the transcoder refuses it
        form.read(json.dumps(bad).encode())
    assert "bogus" in calls  # the enum decides what it is not found by value


def test_each_date_string_is_parsed_once(
    transcoder: JSONTranscoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []

    class Date(date):
        @classmethod
        def fromisoformat(cls, text: str) -> date:
            parsed.append(text)
            return date.fromisoformat(text)

    form = StoredForm(transcoder)
    monkeypatch.setattr(stored_form, "date", Date)
    stored_form._known_date.cache_clear()
    stored = json.dumps({"review": {"_type_": "Review", "_data_": REVIEW}}).encode()
    first, second = form.read(stored), form.read(stored)
    assert first == second
    assert sorted(parsed) == ["2026-12-05", "2026-12-19"]
    wrong = {"day": {"_type_": "date", "_data_": "2026-02-30"}}
    for _ in range(2):  # what raises is not kept: it raises each time
        with pytest.raises(ValueError, match="day is out of range"):
            form.read(json.dumps(wrong).encode())
    assert parsed.count("2026-02-30") == 2
