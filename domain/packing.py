"""Compact forms of an agreement's records, for its snapshots.

A long-lived agreement holds thousands of records (an agreement of 10,000 events:
5,500 reviews, 1,500 artifacts, 3,000 changes). Through the generic JSON transcoder
each record is a tagged object decoded by a hook, field by field: loading such a
snapshot took ~80 ms, so every time-travel lookup did too. Here a collection is one
JSON array of positional rows (field codecs worked out once per record class), and
the append-only histories (reviews, artifacts) stay packed until something reads
them: replaying events after a snapshot only appends to them.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

import orjson

from domain.sealing import Opened

R = TypeVar("R")
Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]  # (to JSON, from JSON)


def _same(value: Any) -> Any:
    return value


@cache
def _codec(hint: Any) -> Codec:
    """How one declared type goes to JSON and back."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = next(a for a in get_args(hint) if a is not type(None))
        to, back = _codec(inner)
        if back is _same:
            return (_same, _same)
        return (
            lambda v: None if v is None else to(v),
            lambda v: None if v is None else back(v),
        )
    if origin is tuple:
        to, back = _codec(get_args(hint)[0])
        if back is _same:
            return (list, tuple)
        return (lambda v: [to(x) for x in v], lambda v: tuple(back(x) for x in v))
    if hint is date:
        return (date.isoformat, date.fromisoformat)
    if isinstance(hint, type) and issubclass(hint, Enum):
        # A dict lookup: calling an Enum class is several times slower.
        members = {m.value: m for m in hint}
        return (lambda v: v.value, members.__getitem__)
    if dataclasses.is_dataclass(hint):
        return _row_codec(hint)  # type: ignore[arg-type]
    return (_same, _same)


_ROWS: dict[type[Any], Codec] = {}


def _row_codec(cls: type[Any]) -> Codec:
    """A dataclass as a positional row, and back (worked out once per class). Reading
    back is a function generated for the class, as `dataclasses` does for `__init__`:
    thousands of records per snapshot make the per-field overhead count."""
    if cls in _ROWS:
        return _ROWS[cls]
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    codecs = [_codec(hints[name]) for name in names]

    def to_row(record: Any) -> list[Any]:
        return [to(getattr(record, n)) for n, (to, _) in zip(names, codecs, strict=True)]

    scope: dict[str, Any] = {"cls": cls}
    arguments = []
    for index, (_, back) in enumerate(codecs):
        if back is _same:
            arguments.append(f"row[{index}]")
        else:
            scope[f"back{index}"] = back
            arguments.append(f"back{index}(row[{index}])")
    # Rows packed before a class gained trailing fields (with defaults) are shorter:
    # they read back with those defaults.
    fields = dataclasses.fields(cls)
    scope["pad"] = [None if f.default is dataclasses.MISSING else f.default for f in fields]
    width = len(fields)
    source = (
        "def from_row(row):\n"
        f"    if len(row) < {width}:\n"
        "        row = [*row, *pad[len(row):]]\n"
        f"    return cls({', '.join(arguments)})\n"
    )
    exec(source, scope)  # noqa: S102  (generated from field positions only)
    _ROWS[cls] = (to_row, scope["from_row"])
    return _ROWS[cls]


class OpenedRows(list[Any]):
    """Packed rows already parsed, their sealed values opened (as the mapper reads a
    snapshot that holds any: domain.sealing)."""


class SealedRows(OpenedRows):
    """Packed rows already parsed whose sealed values are opened (`opener`) only as a
    row becomes its record: a lookup opens the few records it reads, not all a snapshot
    holds (each value is a decryption)."""

    def __init__(self, rows: Iterable[Any], opener: Callable[[Any], Any] | None = None) -> None:
        super().__init__(rows)
        self.opener = opener  # None: copied as they are stored (domain.sealing.stored)


def _opener(packed: Any) -> Callable[[Any], Any] | None:
    return packed.opener if isinstance(packed, SealedRows) else None


def _stored_text(value: Any) -> str:
    # orjson hands `str` subclasses here (OPT_PASSTHROUGH_SUBCLASS): an opened value is
    # written as its envelope, never as its text.
    if isinstance(value, Opened):
        return value.envelope
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not packed")


def _rows(packed: str | OpenedRows) -> list[Any]:
    return packed if isinstance(packed, OpenedRows) else orjson.loads(packed)


def pack(records: Iterable[Any], cls: type[Any]) -> str:
    """Records of one class as one JSON array of rows (rows never read stay rows)."""
    to_row = _row_codec(cls)[0]
    rows = [r if type(r) is list else to_row(r) for r in records]
    return orjson.dumps(rows, default=_stored_text, option=orjson.OPT_PASSTHROUGH_SUBCLASS).decode()


def pack_by_id(records: Mapping[str, Any], cls: type[Any]) -> str:
    if isinstance(records, RecordTable):
        return pack(records.raw_values(), cls)
    return pack(records.values(), cls)


def unpack(packed: str | OpenedRows, cls: type[R]) -> list[R]:
    from_row = _row_codec(cls)[1]
    opener = _opener(packed)
    if opener is not None:
        return [from_row(opener(row)) for row in packed]
    return [from_row(row) for row in _rows(packed)]


# Rows per stored chunk of an append-only log (domain.snapshots): a snapshot holds the
# rows after the last full chunk and refers to the chunks before by their count.
CHUNK_ROWS = 100
ChunkReader = Callable[[], list[Any]]  # the chunks' packed rows, oldest chunk first


class ChunkCount(int):
    """How many stored chunks a snapshot's log refers to: an int as stored, carrying
    what the snapshot store needs beside it (domain.snapshots): the chunks a snapshot
    being taken has not seen stored yet, or how to read them in one just loaded."""

    unwritten: dict[int, str]  # chunk index -> its packed rows
    reader: ChunkReader | None

    @classmethod
    def of(
        cls, count: int, unwritten: dict[int, str] | None = None, reader: ChunkReader | None = None
    ) -> ChunkCount:
        """A count with its unwritten chunks or its reader."""
        made = cls(count)
        made.unwritten = unwritten or {}
        made.reader = reader
        return made


def as_rows(records: Iterable[Any], cls: type[Any]) -> OpenedRows:
    """Records as rows kept in memory (opened values stay opened)."""
    to_row = _row_codec(cls)[0]
    return OpenedRows(r if type(r) is list else to_row(r) for r in records)


class RecordLog(Generic[R]):
    """An append-only list of records that may still be packed: it is unpacked on the
    first read, and packs again without unpacking if nobody read it.

    Loaded from a snapshot, its first `chunked` x CHUNK_ROWS records may be in stored
    chunks (written once, shared by every later snapshot): read through `reader` only
    when the records themselves are read, so a lookup that does not read them never
    pays for the history they hold."""

    __slots__ = ("_chunked", "_cls", "_items", "_packed", "_reader")

    def __init__(
        self,
        cls: type[R],
        items: Iterable[R] = (),
        packed: str | OpenedRows | None = None,
        chunked: int = 0,
        reader: ChunkReader | None = None,
    ) -> None:
        self._cls = cls
        self._chunked = chunked  # full chunks known to be stored, from the first record
        self._reader = reader  # reads them, until they are read (then in `_items`)
        self._packed = packed  # the older records, before `_items`
        self._items: list[R] = list(items)

    def _tail(self) -> list[R]:
        """The records after the stored chunks not yet read (all of them once read)."""
        if self._packed is not None:
            self._items[:0] = unpack(self._packed, self._cls)
            self._packed = None
        return self._items

    def _all(self) -> list[R]:
        items = self._tail()
        if self._reader is not None:
            if self._chunked:
                head: list[R] = []
                for packed in self._reader():
                    head += unpack(packed, self._cls)
                items[:0] = head
            self._reader = None
        return items

    def append(self, record: R) -> None:
        self._items.append(record)

    def copy(self) -> RecordLog[R]:
        return RecordLog(self._cls, self._items, self._packed, self._chunked, self._reader)

    def pack(self) -> str:
        if self._reader is not None and self._chunked:
            return pack(self._all(), self._cls)
        if isinstance(self._packed, OpenedRows):
            return pack([*self._packed, *self._items], self._cls)
        if self._packed is None:
            return pack(self._items, self._cls)
        if not self._items:
            return self._packed
        tail = pack(self._items, self._cls)
        return self._packed[:-1] + ("," if self._packed != "[]" else "") + tail[1:]

    def pack_chunked(self) -> tuple[int, dict[int, str], str]:
        """For a snapshot: how many full chunks of CHUNK_ROWS records precede the
        rest, those of them not known to be stored yet (by index, packed), and the
        rest packed. Chunks already stored are neither read nor packed again."""
        stored = self._chunked
        rest: list[Any] = [*_rows(self._packed), *self._items] if self._packed else self._items
        if self._reader is None:  # read: the stored chunks' records come first
            rest = rest[stored * CHUNK_ROWS :]
        unwritten: dict[int, str] = {}
        index, start = stored, 0
        while len(rest) - start >= CHUNK_ROWS:
            unwritten[index] = pack(rest[start : start + CHUNK_ROWS], self._cls)
            index, start = index + 1, start + CHUNK_ROWS
        return index, unwritten, pack(rest[start:], self._cls)

    def __iter__(self) -> Iterator[R]:
        return iter(self._all())

    def __len__(self) -> int:
        if self._reader is not None:  # counted without reading the stored chunks
            return self._chunked * CHUNK_ROWS + len(self._tail())
        return len(self._all())

    def __getitem__(self, index: int) -> R:
        return self._all()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordLog | list):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"RecordLog({list(self)!r})"

    __hash__ = None  # type: ignore[assignment]  # mutable


class RecordTable(MutableMapping[str, R]):
    """Records by id (their first field), as a snapshot held them: a row becomes its
    record when first used, in place, so replaying a few events after a snapshot reads
    the few records they touch and the order stays the order of addition.

    Loaded from a snapshot, its first `chunked` x CHUNK_ROWS records may be in stored
    chunks (as RecordLog's), read only when a record among them, or all of them, are.
    Their rows are stored as first recorded: a field later records change (`derived`:
    a change's `reverted_by`, an adjustment's `status`) is worked out again as they are
    read (from the change that reverts it; from its change's chain), so a chunk never
    changes."""

    __slots__ = ("_back", "_chunked", "_cls", "_derived", "_items", "_open", "_reader")

    def __init__(
        self,
        cls: type[R],
        packed: str | OpenedRows | None = None,
        chunked: int = 0,
        reader: ChunkReader | None = None,
        derived: Derived | None = None,
    ) -> None:
        self._cls: type[Any] = cls
        self._back = _row_codec(cls)[1]
        self._open = _opener(packed)  # opens a row's sealed values as it is read
        rows = _rows(packed) if packed is not None else []
        self._items: dict[str, Any] = {row[0]: row for row in rows}
        self._chunked = chunked
        self._reader = reader
        self._derived = derived

    def _load(self) -> dict[str, Any]:
        """Every record, the stored chunks' first (read now if not yet)."""
        if self._reader is not None:
            chunks = self._reader()
            rows: list[Any] = [row for packed in chunks for row in _rows(packed)]
            self._open = self._open or next(filter(None, map(_opener, chunks)), None)
            if self._derived is not None:
                self._derived.derive(rows, self._items.values())
            self._items = {**{row[0]: row for row in rows}, **self._items}
            self._reader = None
        return self._items

    def __getitem__(self, key: str) -> R:
        items = self._items if key in self._items else self._load()
        value = items[key]
        if type(value) is list:  # records are never lists
            value = items[key] = self._back(value if self._open is None else self._open(value))
        return value  # type: ignore[no-any-return]

    def __setitem__(self, key: str, record: R) -> None:
        # A key not read yet is new: a record in a stored chunk is read before it is
        # replaced (a revert reads the change it reverts).
        self._items[key] = record

    def __delitem__(self, key: str) -> None:
        del self._load()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items or key in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        if self._reader is not None:  # counted without reading the stored chunks
            return self._chunked * CHUNK_ROWS + len(self._items)
        return len(self._items)

    def raw_values(self) -> Iterable[Any]:
        """Records, and rows never read (for packing again without reading them)."""
        return self._load().values()

    def pack_chunked(self) -> tuple[int, dict[int, str], str]:
        """As RecordLog's (full chunks, as first recorded, not stored yet, and the rest as
        they are now), keeping the latest CHUNK_ROWS to 2 x CHUNK_ROWS - 1 records in
        the rest."""
        stored = self._chunked
        rest = list(self._items.values())
        if self._reader is None:  # read: the stored chunks' records come first
            rest = rest[stored * CHUNK_ROWS :]
        to_row = _row_codec(self._cls)[0]
        unwritten: dict[int, str] = {}
        index, start = stored, 0
        # The latest CHUNK_ROWS records stay in the snapshot: the events after it touch
        # recent records far more often (a revert reads the change it reverts), and
        # reading one in a chunk reads them all.
        while len(rest) - start >= 2 * CHUNK_ROWS:
            rows = [
                list(r) if type(r) is list else to_row(r) for r in rest[start : start + CHUNK_ROWS]
            ]
            if self._derived is not None:
                for row in rows:  # as first recorded: worked out again when read
                    row[self._derived.position] = self._derived.stored
            unwritten[index] = pack(rows, self._cls)
            index, start = index + 1, start + CHUNK_ROWS
        return index, unwritten, pack(rest[start:], self._cls)

    def copy(self) -> RecordTable[R]:
        twin = RecordTable.__new__(RecordTable)
        twin._cls, twin._back, twin._items = self._cls, self._back, dict(self._items)
        twin._chunked, twin._reader, twin._derived = self._chunked, self._reader, self._derived
        twin._open = self._open
        return twin

    def __repr__(self) -> str:
        return f"RecordTable({dict(self)!r})"


def table_of(records: Mapping[str, R], cls: type[R], derived: Derived) -> RecordTable[R]:
    """Records by id as a RecordTable (to pack them in chunks)."""
    if isinstance(records, RecordTable):
        return records
    table: RecordTable[R] = RecordTable(cls, derived=derived)
    table._items = dict(records)
    return table


Derive = Callable[[list[list[Any]], Iterable[Any]], None]


@dataclass(frozen=True)
class Derived:
    """A field of chunked records that later records change: stored in a chunk as first
    recorded (`stored`, its JSON form), and set again in a chunk's rows as they are read
    (`derive(rows, the records after them)`, in place)."""

    position: int  # of the field in a row
    stored: Any
    derive: Derive

    @classmethod
    def of(cls, record: type[Any], name: str, stored: Any, derive: Derive) -> Derived:
        names = [f.name for f in dataclasses.fields(record)]
        return cls(names.index(name), stored, derive)


def named_by(record: type[Any], target: str, source: str) -> Derived:
    """`target`, derived as the id of the record whose `source` field names this one
    (a change's `reverted_by`: the change whose `reverts` is this one)."""
    names = [f.name for f in dataclasses.fields(record)]
    positions = names.index(target), names.index(source)
    return Derived(positions[0], None, lambda rows, later: _derive(rows, later, *positions))


def _derive(rows: list[list[Any]], later: Iterable[Any], target: int, source: int) -> None:
    """Set each row's `target` field to the id of the record whose `source` field names
    it (among the rows and the records after them), in place."""
    by: dict[Any, Any] = {}
    for item in [*rows, *later]:
        named = item[source] if type(item) is list else getattr(item, _field_name(item, source))
        if named is not None:
            by[named] = item[0] if type(item) is list else item.id
    for row in rows:
        row[target] = by.get(row[0])


def _field_name(record: Any, position: int) -> str:
    return dataclasses.fields(record)[position].name
