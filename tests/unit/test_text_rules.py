"""One text rule wherever text enters (domain.values): no control characters (tab and
line breaks only in multi-line texts), no DEL or C1, no direction overrides or isolates,
no lone surrogates, no noncharacters of any plane; URLs take nothing invisible at all.
Properties over generated text, and the commands that store an artifact's URL and title."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.application import commands as c
from domain.errors import InvalidInput
from domain.values import text, url
from tests.support import Org, positions

NONCHARACTERS = [chr(0xFDD0), chr(0xFDEF)] + [
    chr(plane * 0x10000 + last) for plane in range(17) for last in (0xFFFE, 0xFFFF)
]
BIDI = [chr(cp) for cp in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
C0 = [chr(cp) for cp in range(0x20)]
C1_AND_DEL = [chr(cp) for cp in range(0x7F, 0xA0)]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
NEVER = [ch for ch in C0 if ch not in "\t\n\r"] + C1_AND_DEL + BIDI + NONCHARACTERS + SURROGATES
NEVER_ON_ONE_LINE = [*NEVER, "\t", "\n", "\r"]
# What the finding named, in a URL: BEL, ESC, C1, DEL, RLO, LRI, U+FFFF (and whitespace).
NEVER_IN_URLS = [
    *NEVER_ON_ONE_LINE,
    "\x07", "\x1b", "\x85", "\x7f", "\u202e", "\u2066", "\uffff",
    " ", "\u00a0", "\u2028", "\u3000", "\u200b", "\u200e", "\ufeff", "\u00ad", "\ue000",
]  # fmt: skip
ANY_CHARACTER = st.characters(codec=None)
FORBIDDEN = st.sampled_from(NEVER)


def _allowed(ch: str, multiline: bool) -> bool:
    """The rule restated from the code points (not from the lists above)."""
    cp = ord(ch)
    if cp < 0x20:
        return multiline and ch in "\t\n\r"
    return not (
        0x7F <= cp <= 0x9F
        or 0x202A <= cp <= 0x202E
        or 0x2066 <= cp <= 0x2069
        or 0xD800 <= cp <= 0xDFFF
        or 0xFDD0 <= cp <= 0xFDEF
        or cp & 0xFFFE == 0xFFFE
    )


@given(st.text(ANY_CHARACTER, max_size=50), st.booleans())
def test_stored_text_never_holds_a_forbidden_character(value: str, multiline: bool) -> None:
    try:
        stored = text(value, "title", max_length=200, multiline=multiline)
    except InvalidInput:
        assert not all(_allowed(ch, multiline) for ch in value) or not value.strip()
        return
    assert all(_allowed(ch, multiline) for ch in stored)


@given(st.text(max_size=20), FORBIDDEN, st.text(max_size=20), st.booleans())
def test_one_forbidden_character_anywhere_refuses_the_text(
    before: str, bad: str, after: str, multiline: bool
) -> None:
    with pytest.raises(InvalidInput):
        text(f"ok {before}{bad}{after}", "notes", max_length=500, multiline=multiline)


@given(st.sampled_from(["\t", "\n", "\r\n"]))
def test_line_breaks_only_in_multi_line_texts(brk: str) -> None:
    assert text(f"one{brk}two", "notes", max_length=50, multiline=True) == f"one{brk}two"
    with pytest.raises(InvalidInput, match="line breaks"):
        text(f"one{brk}two", "title", max_length=50)


@given(
    st.sampled_from(NEVER_IN_URLS),
    st.sampled_from(["https://example.com/", "http://example.com/a?b=", "https://e.example/x#"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20),
)
def test_a_url_with_anything_invisible_is_refused(bad: str, head: str, tail: str) -> None:
    with pytest.raises(InvalidInput):
        url(f"{head}{tail}{bad}x{tail}", "url")


def test_ordinary_urls_pass_unchanged() -> None:
    for fine in (
        "https://example.com/demo?v=1&t=2#part",
        "http://intranet.example/wiki/Job_crafting_(HR)",
        "https://例え.jp/ファイル",  # an IRI: visible letters are fine
    ):
        assert url(fine, "url") == fine


def test_an_artifact_with_a_bad_url_or_title_is_refused_and_nothing_is_recorded(org: Org) -> None:
    agreement = org.active()
    before = positions(org.app)
    for field, title, link in [
        ("url", "Demo", "https://example.com/\x07"),
        ("url", "Demo", "https://example.com/\x1b[31m"),
        ("url", "Demo", "https://example.com/\x85"),
        ("url", "Demo", "https://example.com/\x7f"),
        ("url", "Demo", "https://example.com/\u202egnp.exe"),
        ("url", "Demo", "https://example.com/\u2066x"),
        ("url", "Demo", "https://example.com/\uffff"),
        ("title", "Demo \U0001fffe", "https://example.com/"),
        ("title", "Demo \U0010ffff", "https://example.com/"),
        ("title", "Demo\nsecond line", "https://example.com/"),
    ]:
        command = c.RecordArtifact(agreement_id=agreement.id, title=title, kind="DEMO", url=link)
        with pytest.raises(InvalidInput) as refused:
            org.app.execute(org.employee, command)
        assert refused.value.field == field, (title, link)
    assert positions(org.app) == before
    fine = c.RecordArtifact(
        agreement_id=agreement.id, title="Demo", kind="DEMO", url="https://example.com/demo"
    )
    org.run(org.employee, fine)
