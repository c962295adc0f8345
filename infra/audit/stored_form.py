"""What an event hash covers, read straight from the stored JSON.

The definition is `domain.integrity.hashed_fields` of the stored state as the
transcoder decodes it: typed values (dates, times, UUIDs, records) are decoded into
objects and `plain` turns them back into JSON values. Every stored event the auditors
check pays for that round trip, and it was most of what `crafting verify` spent beyond
reading and decoding the log. This reader goes from the JSON tree to the same plain
values without building the objects: a date or a time is parsed and written again (so
the value is exactly what the round trip gives), a record's fields are taken as stored
when they are exactly the record's fields and its enum fields hold one of their values.

Anything else — a type it has no shortcut for, a record with missing or extra fields,
a value its type refuses — sends the whole event through the transcoder and `plain`,
which then gives the same result or raises the same error as before. So the two paths
never disagree (`tests/unit/test_stored_form.py` compares them on every kind of event
the service writes).

The JSON is decoded by orjson first: for a tree without floats outside 1e-3..1e15 its
result is the standard library's (ints beyond 64 bits come back as floats, and so count
as floats) and orjson writes it back byte for byte as the standard library does. Such an
event is marked exact: orjson then writes its canonical encoding too
(`infra.audit.store.record_hash`), the other half of what verify spent per event.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder

from domain.integrity import NOT_HASHED, TAG_FIELD, hashed_fields
from domain.transcodings import RecordAsDict

Convert = Callable[[Any], Any]
_ATOMS: frozenset[type] = frozenset({str, int, float, bool, type(None)})  # JSON as is
# What orjson writes as the standard library does, so an event holding nothing else may
# be encoded by orjson. Floats are looked at one by one (`_plain`): orjson writes some
# otherwise than `repr` (1e-05 as 0.00001, 1e-07 as 1e-7) and reads ints beyond 64
# bits as floats; between 1e-3 and 1e15 both write the shortest positional form.
_EXACT_ATOMS: frozenset[type] = frozenset({str, int, bool, type(None)})
_EXACT_FLOATS = (1e-3, 1e15)
_DECODER = json.JSONDecoder()


class _Unusual(Exception):
    """A value the shortcut does not read: the event goes the transcoder's way."""


class _Inexact(Exception):
    """In orjson's reading, a float outside `_EXACT_FLOATS` (or an enum valued otherwise
    than a str or an int): the standard library's decoder reads the event again."""


def _datetime(data: Any) -> str:
    return datetime.fromisoformat(data).isoformat()


@functools.lru_cache(maxsize=4096)
def _known_date(data: str) -> str:
    return date.fromisoformat(data).isoformat()


def _date(data: Any) -> str:
    """Dates repeat across events (a review's day, a change's): each string is parsed
    once while it stays among the last 4,096 (a pure function of a `str`; what raises
    is not kept, and raises again)."""
    if type(data) is str:
        return _known_date(data)
    return date.fromisoformat(data).isoformat()


def _uuid(data: Any) -> str:
    return str(UUID(data))


class StoredForm:
    """Reads a stored event's hashed fields and tag the way `hashed_fields` of the
    transcoder's decoding does, for a transcoder with the service's registrations."""

    def __init__(self, transcoder: JSONTranscoder) -> None:
        self.transcoder = transcoder
        self._any = _Walk(transcoder, _ATOMS)
        self._exact = _Walk(transcoder, _EXACT_ATOMS)

    def read(self, data: bytes) -> tuple[dict[str, Any], Any]:
        """(the fields the event's hash covers, the tag it carries)."""
        fields, tag, _ = self.read_exact(data)
        return fields, tag

    def read_exact(self, data: bytes) -> tuple[dict[str, Any], Any, bool]:
        """As `read`, and whether orjson writes the fields as the standard library
        does (`_EXACT_ATOMS`). orjson
        decodes first (several times faster); a float, or anything orjson refuses, has
        the standard library decode the event again, exactly as `read` always did."""
        try:
            try:
                fields, tag = self._exact.fields(orjson.loads(data))
                return fields, tag, True
            except (orjson.JSONDecodeError, _Inexact):
                state = _DECODER.decode(data.decode("utf8"))  # as JSONTranscoder.decode
                fields, tag = self._any.fields(state)
                return fields, tag, False
        except Exception:
            decoded = self.transcoder.decode(data)
            return hashed_fields(decoded), decoded.get(TAG_FIELD), False


class _Walk:
    """From a decoded JSON tree to the hashed fields; every value whose type is not
    one of `atoms` is looked at (a float, when `atoms` leaves it out, raises `_Inexact`)."""

    def __init__(self, transcoder: JSONTranscoder, atoms: frozenset[type]) -> None:
        self.atoms = atoms
        self._typed: dict[str, Convert] = {}
        for name, transcoding in transcoder.names.items():
            convert = self._shortcut(transcoding)
            if convert is not None:
                self._typed[name] = convert

    def fields(self, state: Any) -> tuple[dict[str, Any], Any]:
        """The hashed fields, made in `state` itself (the caller's own decoded tree, of
        which nothing else is kept: should this raise half way, `state` is dropped and
        the event decoded again), and the tag."""
        if type(state) is not dict:
            raise _Unusual
        tag = state.get(TAG_FIELD)
        if type(tag) in (list, dict):  # the transcoder would decode what it holds
            raise _Unusual
        atoms, plain = self.atoms, self._plain
        # Every value is read (as the transcoder decodes every one), then the unhashed
        # ones are dropped. Values replaced, none added or removed while iterating: the
        # keys keep their order (that of a new dict built from them, as before).
        for k, v in state.items():
            if type(v) not in atoms:
                state[k] = plain(v)
        for name in NOT_HASHED.intersection(state):
            del state[name]
        return state, tag

    def _plain(self, value: Any) -> Any:
        """(Callers answer atoms themselves: most values are, and a call costs more.)"""
        kind, atoms = type(value), self.atoms
        if kind in atoms:
            return value
        if kind is float:  # not an atom here: this walk is orjson's, exact only
            low, high = _EXACT_FLOATS
            if value == 0.0 or low <= abs(value) < high:  # NaN and infinities are not
                return value
            raise _Inexact
        if kind is list:
            return [v if type(v) in atoms else self._plain(v) for v in value]
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                convert = self._typed.get(value["_type_"])
                if convert is None:
                    raise _Unusual
                return convert(value["_data_"])
            return {k: v if type(v) in atoms else self._plain(v) for k, v in value.items()}
        raise _Unusual

    def _shortcut(self, transcoding: Any) -> Convert | None:
        if transcoding.name == "datetime_iso" and transcoding.type is datetime:
            return _datetime
        if transcoding.name == "date" and transcoding.type is date:
            return _date
        if transcoding.name == "uuid_hex" and transcoding.type is UUID:
            return _uuid
        if isinstance(transcoding, RecordAsDict):
            return self._record(transcoding)
        return None

    def _record(self, transcoding: RecordAsDict) -> Convert | None:
        """A record's fields as stored, when decoding it could change none of them: no
        `__post_init__`, every field set by `__init__`; a field decoded as a tuple must be
        a list, one decoded as an enum must hold one of its values."""
        cls = transcoding.type
        fields = dataclasses.fields(cls)
        if hasattr(cls, "__post_init__") or not all(f.init for f in fields):
            return None
        names = frozenset(f.name for f in fields)
        lists = [name for name, restore in transcoding.conversions if restore is tuple]
        enums = [
            (name, _enum_values(restore), restore)
            for name, restore in transcoding.conversions
            if isinstance(restore, type) and issubclass(restore, Enum)
        ]
        if len(lists) + len(enums) != len(transcoding.conversions):
            return None
        atoms, plain, exact = self.atoms, self._plain, float not in self.atoms

        def convert(data: Any) -> dict[str, Any]:
            """The record's fields, made in `data` itself (see `fields`)."""
            if type(data) is not dict or data.keys() != names:
                raise _Unusual
            for k, v in data.items():
                if type(v) not in atoms:
                    data[k] = plain(v)
            for name in lists:
                if data[name] is not None and type(data[name]) is not list:
                    raise _Unusual
            for name, values, enum in enums:
                if (stored := data[name]) is not None:
                    try:
                        value = values[stored]
                    except (KeyError, TypeError):  # not a value as such: the enum decides
                        value = enum(stored).value
                    data[name] = value
                    if exact and not isinstance(value, str | int):
                        raise _Inexact
            return data

        return convert


def _enum_values(enum: type[Enum]) -> dict[Any, Any]:
    """`enum(x).value` for every x `enum` finds by its value map, the first thing
    `Enum.__new__` looks in (aliases included); anything else goes to `enum(x)`."""
    return {stored: member.value for stored, member in enum._value2member_map_.items()}
