"""The one parser of whole numbers from outside (api/http/numbers.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.http.numbers import INT32_MAX, INT64_MAX, version_number, whole_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("007", 7),
        (str(INT64_MAX), INT64_MAX),
        (str(INT64_MAX + 1), None),  # past BIGINT
        ("99999999999999999999999", None),
        ("²", None),  # str.isdigit() is True; int() refuses it
        ("٣", None),  # int() reads Arabic-Indic digits: not ours
        ("\uff13", None),  # fullwidth 3
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1 ", None),
        ("1_000", None),  # int() accepts underscores
        ("1e3", None),
        ("", None),
        (None, None),
        ("9" * 5000, None),  # past int()'s digit limit: refused by length first
    ],
)
def test_only_ascii_digits_within_64_bits_are_a_whole_number(
    text: str | None, expected: int | None
) -> None:
    assert whole_number(text) == expected


def test_a_version_is_within_32_bits() -> None:
    assert version_number(str(INT32_MAX)) == INT32_MAX
    assert version_number(str(INT32_MAX + 1)) is None
    assert version_number("²") is None


@given(st.text(max_size=30) | st.integers().map(str))
def test_any_text_is_a_bounded_number_or_refused_never_an_error(text: str) -> None:
    value = whole_number(text)
    if value is not None:
        assert text.isascii() and text.isdigit()
        assert value == int(text) and 0 <= value <= INT64_MAX
