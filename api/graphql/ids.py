"""Opaque global ids (Relay) and keyset cursors."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from uuid import UUID

from api.graphql.errors import BadInputError
from api.http.numbers import whole_number
from domain.values import PERSON_ID_RULE, is_person_id
from projections.global_ids import encoded as _encode
from projections.global_ids import global_id

__all__ = ["global_id"]  # re-exported: the encoding is projections.global_ids'

_MAX_ID = 300


def _decode(value: str) -> str | None:
    if len(value) > _MAX_ID:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


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


def person_key(value: str, field: str = "id") -> str:
    """A person id: its global id, or the HRIS id itself; BAD_USER_INPUT when it is
    neither (no id outside the person-id rule reaches a query)."""
    decoded = _decode(value)
    if decoded is not None and decoded.startswith("Person:"):
        value = decoded.split(":", 1)[1]
    return person_filter(value, field) or ""


def person_filter(value: str | None, field: str) -> str | None:
    """A person id a filter names (None: no filter), under the person-id rule."""
    if value is not None and not is_person_id(value):
        raise BadInputError(f"{field} must be a person id: {PERSON_ID_RULE}.", field=field)
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
