"""Personal data sealed under its data subject's key (crypto-shredding:
erasure destroys the key, and every copy of the data becomes unreadable).

Where an event holds personal data it stores a `Sealed` value: the envelope
`\\x1es1.<kid>.<base64url(salt | commit | ciphertext and tag)>`. Each value has its own
key, derived from the subject's data key and a random salt (HMAC-SHA256), so
AES-256-GCM can use a fixed nonce, and an export can open one value by carrying its
value key without giving away the data key. The commit (an HMAC of the value key) lets
a verifier check that a value key it was given is the one the value was sealed with.
The hash chains cover the envelope (`domain.integrity.plain` stores its
`stored_form()`): destroying a subject's data key erases every value sealed under it
while the history still verifies. User text never holds `\\x1e` (domain.values refuses
it), so no input can pass for an envelope.

In memory a sealed value is `Opened`: a `str` (its text, or ERASED once the key is
gone) that remembers its envelope, so the rules read text while everything that stores,
hashes or projects an event writes the envelope (`stored`). Values are sealed as events
are triggered (`seal_event_fields`, with the `Keys` the application puts in `keys_in_use`
while a command runs), and opened as events are read back (`opened_all`). Which fields
are personal is declared where they are defined: `PERSONAL` on each value and record
class, `PERSONAL_EVENT_FIELDS` for an event's own.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "\x1es1."
ERASED = "[erased]"  # what every reader shows where an erased subject's data was
# Where the subject was not erased but their key is missing or damaged (never ERASED).
UNREADABLE = "[unreadable]"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SALT, _COMMIT = 16, 16
_NONCE = bytes(12)  # fixed: every value key seals exactly one value


class SealError(Exception):
    """An envelope that is malformed, or that does not open with the key given."""


class Sealed:
    """A sealed value as stored; equal when the envelope is the same."""

    __slots__ = ("envelope",)

    def __init__(self, envelope: str) -> None:
        kid, _, body = envelope.removeprefix(PREFIX).partition(".")
        if not envelope.startswith(PREFIX) or not _KID.match(kid) or not body:
            raise SealError("Not a sealed value.")
        self.envelope = envelope

    @property
    def kid(self) -> str:
        """The id of the data key it was sealed under (whose subject it belongs to)."""
        return self.envelope[len(PREFIX) :].partition(".")[0]

    def stored_form(self) -> str:
        """What is stored and hashed: the envelope."""
        return self.envelope

    def parts(self) -> tuple[bytes, bytes, bytes]:
        """Salt, commit, and ciphertext with its tag."""
        raw = _unb64(self.envelope[len(PREFIX) :].partition(".")[2])
        if len(raw) < _SALT + _COMMIT + 16:
            raise SealError("Not a sealed value.")
        return raw[:_SALT], raw[_SALT : _SALT + _COMMIT], raw[_SALT + _COMMIT :]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.envelope == self.envelope

    def __hash__(self) -> int:
        return hash(self.envelope)

    def __repr__(self) -> str:
        return f"Sealed(kid={self.kid!r})"  # never the text, not even encrypted


def new_data_key() -> bytes:
    """A fresh 256-bit data key for one subject."""
    return secrets.token_bytes(32)


def value_key(data_key: bytes, salt: bytes) -> bytes:
    """The key of the one value sealed with `salt` under `data_key`."""
    return hmac.new(data_key, b"crafting/sealed/v1|" + salt, hashlib.sha256).digest()


def seal(kid: str, data_key: bytes, text: str) -> Sealed:
    """`text` sealed under the data key `kid`."""
    if not _KID.match(kid):
        raise ValueError("A key id is 1 to 64 letters, digits, '-' or '_'.")
    salt = secrets.token_bytes(_SALT)
    key = value_key(data_key, salt)
    ciphertext = AESGCM(key).encrypt(_NONCE, text.encode(), kid.encode())
    return Sealed(f"{PREFIX}{kid}.{_b64(salt + _commit(key) + ciphertext)}")


def opened(sealed: Sealed, data_key: bytes) -> str:
    """The text, with the subject's data key; SealError if the key is not its key."""
    salt, _, _ = sealed.parts()
    return opened_with(sealed, value_key(data_key, salt))


def opened_with(sealed: Sealed, key: bytes) -> str:
    """The text, with the value's own key (as an export carries it)."""
    _, commit, ciphertext = sealed.parts()
    if not hmac.compare_digest(commit, _commit(key)):
        raise SealError("This key did not seal this value.")
    try:
        return AESGCM(key).decrypt(_NONCE, ciphertext, sealed.kid.encode()).decode()
    except InvalidTag:
        raise SealError("The sealed value was altered.") from None


def _commit(key: bytes) -> bytes:
    return hmac.new(key, b"commit", hashlib.sha256).digest()[:_COMMIT]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise SealError("Not a sealed value.") from None


# --- in memory: opened values, and sealing as events are triggered --------------------

PERSONAL_EVENT_FIELDS = frozenset({"title", "reason"})
"""An event's own fields that are personal (values and records declare `PERSONAL`)."""
_ENVELOPE = re.compile(r"\x1es1\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]+)")
# The same envelope inside JSON text, where the separator is written as an escape.
_ESCAPED = re.compile(r"\\u001[eE]s1\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]+)")


class SubjectErased(Exception):
    """The subject's key was destroyed: nothing can be sealed for them any more."""


class KeysUnavailable(Exception):
    """The key store cannot be reached: nothing is sealed, opened or recorded."""

    code = "KEYSTORE_UNAVAILABLE"


class Opened(str):
    """A sealed value in memory: its text (ERASED once its key is gone), and the
    envelope it is stored and hashed as."""

    __slots__ = ("envelope",)
    envelope: str

    def __new__(cls, text: str, envelope: str) -> Opened:
        made = super().__new__(cls, text)
        made.envelope = envelope
        return made

    def stored_form(self) -> str:
        """What is stored and hashed: the envelope."""
        return self.envelope

    def __reduce__(self) -> tuple[Any, ...]:
        return (Opened, (str(self), self.envelope))

    def __copy__(self) -> Opened:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Opened:
        return self


class Keys(Protocol):
    """The data keys, as the domain uses them (infra.keystore.KeyRing)."""

    def seal(self, subject_id: str, text: str) -> str:
        """`text` sealed under the subject's key: its envelope. SubjectErased once the
        key is destroyed, KeysUnavailable when the key store cannot be reached."""
        ...

    def open(self, envelope: str) -> str:
        """The text of an envelope, or ERASED once its key is destroyed."""
        ...

    def prefetch(self, kids: set[str]) -> None:
        """Have the keys with these ids at hand (one lookup for a page of rows)."""
        ...

    def forget(self, subject_id: str) -> None:
        """Drop what is cached of the subject's key (it was just destroyed)."""
        ...

    def destroy(self, subject_id: str) -> None:
        """Destroy the subject's key in the key store's own transaction (a key store
        apart from the events); KeysUnavailable when it cannot be reached."""
        ...


keys_in_use: ContextVar[Keys | None] = ContextVar("keys_in_use", default=None)


@contextmanager
def sealing_with(keys: Keys | None) -> Iterator[None]:
    """Seal what events triggered inside the block record, with `keys` (None: as
    before sealing existed, e.g. the domain's own unit tests)."""
    token = keys_in_use.set(keys)
    try:
        yield
    finally:
        keys_in_use.reset(token)


def seal_event_fields(
    fields: dict[str, Any],
    subject_id: str | None,
    personal: frozenset[str] = PERSONAL_EVENT_FIELDS,
) -> dict[str, Any]:
    """An event's fields with every personal text sealed under the subject's key. Text
    already sealed stays as it is; about a subject whose key is destroyed nothing new
    can be written, so their text is recorded as ERASED; with no subject (ledgers,
    idempotency records) free text is not recorded at all: it lives on the agreement.
    `personal` names the event fields that hold personal text (an aggregate whose
    texts are not about a data subject names none)."""
    keys = keys_in_use.get()
    if keys is None:
        return fields
    if subject_id is None:

        def seal_text(text: str) -> str | None:  # one signature for both branches
            return None

    else:

        def seal_text(text: str) -> str | None:
            if isinstance(text, Opened):
                return text
            try:
                return Opened(text, keys.seal(subject_id, text))
            except SubjectErased:
                return ERASED

    return {name: _seal(value, seal_text, name in personal) for name, value in fields.items()}


def _seal(value: Any, seal_text: Callable[[str], str | None], personal: bool) -> Any:
    if isinstance(value, str):
        return seal_text(value) if personal else value
    if isinstance(value, list | tuple):
        return type(value)(_seal(v, seal_text, personal) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        mine: frozenset[str] = frozenset(getattr(value, "PERSONAL", ()))
        changes = {
            f.name: _seal(getattr(value, f.name), seal_text, f.name in mine)
            for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value


def holds_clear_text(fields: dict[str, Any], not_personal: frozenset[str] = frozenset()) -> bool:
    """Whether an event's fields hold personal text that is not sealed (written before
    sealing existed): erasing its subject cannot remove it, only mask it. `not_personal`
    names the event's own fields it records in clear on purpose (RecordedEvent)."""
    personal = PERSONAL_EVENT_FIELDS - not_personal
    return any(_clear(v, name in personal) for name, v in fields.items())


def _clear(value: Any, personal: bool) -> bool:
    if isinstance(value, str):
        return personal and not isinstance(value, Opened) and value not in ("", ERASED)
    if isinstance(value, list | tuple):
        return any(_clear(v, personal) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        mine: frozenset[str] = frozenset(getattr(value, "PERSONAL", ()))
        return any(
            _clear(getattr(value, f.name), f.name in mine) for f in dataclasses.fields(value)
        )
    return False


# Exact types that neither are nor hold an opened value (Opened subclasses str, so a
# plain `str` is never one). Most of a read row's values are these: `stored` returns
# them at the first test instead of walking every isinstance and dataclass check —
# a rebuild writes every row through it.
_ATOMS: frozenset[type] = frozenset({str, int, float, bool, type(None), datetime, date})


def stored(value: Any) -> Any:
    """`value` as it is written: every opened value as its envelope (dicts, lists,
    tuples and dataclasses copied only where they hold one)."""
    if type(value) in _ATOMS:
        return value
    if isinstance(value, Opened):
        return value.envelope
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {k: v if type(v) in _ATOMS else stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(stored(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: stored(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if _holds_opened(getattr(value, f.name))
        }
        return dataclasses.replace(value, **changes) if changes else value
    return value


def stored_cells(row: Mapping[str, Any], names: Sequence[str]) -> list[Any]:
    """The values of `row` under `names`, in that order, each as `stored` writes it: one
    pass for a bulk write's row (most values are atoms, answered without a call)."""
    atoms = _ATOMS
    return [v if type(v := row[n]) in atoms else stored(v) for n in names]


def _holds_opened(value: Any) -> bool:
    if isinstance(value, Opened):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_opened(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_holds_opened(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def opened_all(value: Any, keys: Keys) -> Any:
    """`value` as read back: every envelope in it opened (ERASED once its key is gone)."""
    if isinstance(value, str):
        if value.startswith(PREFIX) and not isinstance(value, Opened):
            return Opened(keys.open(value), value)
        return value
    if isinstance(value, dict):
        return {k: opened_all(v, keys) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(opened_all(v, keys) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: opened_all(getattr(value, f.name), keys) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value


# Backslashes looked at one by one before `escape_in` scans the rest of a text whole.
_HOPS = 32


def escape_in(text: str) -> bool:
    """`"\\u001" in text` (an envelope's separator written as a JSON escape), fast on
    JSON text. The plain test costs ~1 ns a character whatever the text (0.3 ms for a
    compiled page of 255 KB, each request: bench hris_read); a backslash is found by
    memchr, and JSON text has few (none in that page), so the test hops from one to
    the next and scans whole only past a few dozen."""
    at = text.find("\\")
    for _ in range(_HOPS):
        if at < 0:
            return False
        if text.startswith("u001", at + 1):
            return True
        at = text.find("\\", at + 1)
    return at >= 0 and text.find("\\u001", at) >= 0


def open_text(text: str, keys: Keys) -> str:
    """`text` with every envelope in it opened: as a value, or inside JSON text (where
    the opened text is written JSON-escaped). For what leaves the service: a page of
    read rows, a compiled JSON answer."""
    if "\x1e" in text:
        # Most texts are one envelope each (a column's value): opened without a search.
        if _ENVELOPE.fullmatch(text):
            text = keys.open(text)
        else:
            text = _ENVELOPE.sub(lambda m: keys.open(m.group(0)), text)
    if escape_in(text):
        text = _ESCAPED.sub(
            lambda m: json.dumps(keys.open(f"{PREFIX}{m.group(1)}.{m.group(2)}"))[1:-1], text
        )
    return text


@dataclasses.dataclass(frozen=True, eq=False)
class Kept:
    """Rows of texts (tuples of strings, some sealed) that a page shows the same on
    every request, and what it makes of them once they are opened (`make`: a pure
    function of the opened rows, e.g. a select's rendered options). `opened_in` puts
    `make`'s result in its place; a key ring that can (`infra.keystore.KeyRing.kept`)
    keeps that result while every key that opened the rows stays cached as it was, so
    an erased name shows no longer than the key ring would open it (the agreement
    page's receiver list: hundreds of names opened, sorted and rendered per request)."""

    rows: tuple[tuple[Any, ...], ...]
    make: Callable[[list[tuple[Any, ...]]], Any]

    def made(self, keys: Keys) -> Any:
        """`make` of the rows opened with `keys` (nothing kept)."""
        return self.make(
            [
                tuple(
                    open_text(v, keys) if type(v) is str and ("\x1e" in v or "\\u001" in v) else v
                    for v in row
                )
                for row in self.rows
            ]
        )


# Marks, among the key ids a walk found, that it met a `Kept` (which looks its own up).
_KEPT_MARK = ""


def opened_in(value: Any, keys: Keys) -> Any:
    """Every string in `value` (rows, lists, JSON text) with its envelopes opened, as
    plain text; the keys they need are looked up at once. A `Kept` becomes what it
    makes of its rows opened (kept by `keys.kept` when the keys can keep it)."""
    kids: set[str] = set()
    _kids_in(value, kids)
    if not kids:
        return value
    if _KEPT_MARK in kids:
        kids.discard(_KEPT_MARK)
    if kids:
        keys.prefetch(kids)
    return _opened_in(value, keys)


def key_ids_in(value: Any) -> set[str]:
    """The ids of the keys the envelopes in `value` (rows, lists, texts) were sealed with."""
    kids: set[str] = set()
    _kids_in(value, kids)
    kids.discard(_KEPT_MARK)
    return kids


def _made(kept: Kept, keys: Keys) -> Any:
    keeper = getattr(keys, "kept", None)
    return kept.made(keys) if keeper is None else keeper(kept)


# The values of read rows that hold no text: a page's rows are walked twice (the keys
# to look up, then the texts to open), thousands of values per page, so these are
# passed over at the first test instead of a call and the isinstance checks each.
_PLAIN: frozenset[type] = frozenset({int, float, bool, type(None), datetime, date})


def _kids_in(value: Any, kids: set[str]) -> None:
    if type(value) is Kept:
        kids.add(_KEPT_MARK)
    elif isinstance(value, str):
        _kids_of_text(value, kids)
    elif isinstance(value, dict):
        _kids_in_each(value.values(), kids)
    elif isinstance(value, list | tuple):
        _kids_in_each(value, kids)


def _kids_in_each(values: Iterable[Any], kids: set[str]) -> None:
    for v in values:
        kind = type(v)
        if kind is str:
            if "\x1e" in v:
                # Most sealed values are one envelope each (a name, a column's text): its
                # key id from one match, not a search and a generator per value (the
                # agreement page walks 500 names of its receiver list).
                whole = _ENVELOPE.fullmatch(v)
                if whole is not None:
                    kids.add(whole.group(1))
                else:
                    _kids_of_text(v, kids)
            elif "\\u001" in v:
                _kids_of_text(v, kids)
        elif kind is Kept:
            kids.add(_KEPT_MARK)
        elif kind not in _PLAIN:
            _kids_in(v, kids)


def _kids_of_text(text: str, kids: set[str]) -> None:
    if "\x1e" in text:
        kids.update(m.group(1) for m in _ENVELOPE.finditer(text))
    if escape_in(text):
        kids.update(m.group(1) for m in _ESCAPED.finditer(text))


def _opened_in(value: Any, keys: Keys) -> Any:
    if isinstance(value, str):
        return open_text(value, keys) if "\x1e" in value or "\\u001" in value else value
    if isinstance(value, dict):
        return {
            k: v
            if type(v) in _PLAIN or (type(v) is str and "\x1e" not in v and "\\u001" not in v)
            else _opened_in(v, keys)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_opened_in(v, keys) for v in value)
    if type(value) is Kept:
        return _made(value, keys)
    return value
