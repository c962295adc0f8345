"""Whole numbers read from outside — query strings, form fields, cursors, SCIM
parameters and ETags — parsed once, the same way, by every front door.

`str.isdigit` alone is not enough: it accepts digits `int` refuses ("²") or reads
differently (Arabic-Indic, fullwidth), and an unbounded number overflows the database's
64-bit columns. A value outside what any column holds is malformed input, never a
query: the caller answers it with its own 400-style error."""

from __future__ import annotations

INT64_MAX = 2**63 - 1  # log positions, ids: BIGINT
INT32_MAX = 2**31 - 1  # versions, counts: INTEGER
_DIGITS = frozenset("0123456789")


def whole_number(text: str | None, *, most: int = INT64_MAX) -> int | None:
    """`text` as a whole number 0..`most` written in ASCII digits; None otherwise."""
    if not text or len(text) > len(str(most)) or not _DIGITS.issuperset(text):
        return None
    value = int(text)
    return value if value <= most else None


def version_number(text: str | None) -> int | None:
    """A version (of an agreement or a person): ASCII digits within 32 bits, or None."""
    return whole_number(text, most=INT32_MAX)
