"""Opaque global ids (Relay) and keyset cursors."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from uuid import UUID

from api.graphql.errors import BadInputError
from api.http.numbers import whole_number

_MAX_ID = 300


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(value: str) -> str | None:
    if len(value) > _MAX_ID:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def global_id(type_name: str, key: str) -> str:
    """A Relay global id: the type and the key, opaque (base64url)."""
    return _encode(f"{type_name}:{key}")


def parse_global_id(value: str) -> tuple[str, str]:
    """(type, key) of a global id, or a clean BAD_USER_INPUT error."""
    decoded = _decode(value)
    if decoded is None or ":" not in decoded:
        raise BadInputError("Not a valid id.", field="id")
    type_name, key = decoded.split(":", 1)
    return type_name, key


def agreement_uuid(value: str, field: str = "id") -> UUID:
    """An agreement id: its global id, or the bare UUID integrations store."""
    try:
        return UUID(value)
    except ValueError:
        pass
    decoded = _decode(value)
    if decoded is not None and decoded.startswith("Agreement:"):
        try:
            return UUID(decoded.split(":", 1)[1])
        except ValueError:
            pass
    raise BadInputError("Not a valid agreement id.", field=field)


def person_key(value: str) -> str:
    """A person id: its global id, or the HRIS id itself."""
    decoded = _decode(value)
    if decoded is not None and decoded.startswith("Person:"):
        return decoded.split(":", 1)[1]
    return value


def cursor(kind: str, position: int) -> str:
    """An opaque cursor of a list of `kind`, at a log position."""
    return _encode(f"{kind}|{position}")


def due_cursor(due: date, position: int) -> str:
    """A cursor of `reviewsDue`: the next review date, then the creation position."""
    return _encode(f"reviewsDue|{due.isoformat()}|{position}")


def parse_due_cursor(value: str | None) -> tuple[date, int] | None:
    """The date and position behind a `reviewsDue` cursor, or a clean error."""
    if value is None:
        return None
    kind, _, rest = (_decode(value) or "").partition("|")
    due, _, written = rest.partition("|")
    position = whole_number(written)
    try:
        if kind != "reviewsDue" or position is None:
            raise ValueError(value)
        return date.fromisoformat(due), position
    except ValueError:
        raise BadInputError("Not a valid cursor for this list.", field="after") from None


def parse_cursor(kind: str, value: str | None) -> int | None:
    """The position behind a cursor of this list (a 64-bit log position), or a clean
    error."""
    if value is None:
        return None
    decoded = _decode(value)
    position = None
    if decoded is not None and decoded.startswith(kind + "|"):
        position = whole_number(decoded.split("|", 1)[1])
    if position is None:
        raise BadInputError("Not a valid cursor for this list.", field="after")
    return position
