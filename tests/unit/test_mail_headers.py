"""Messages are composed with header classes made once per name and the fixed headers
parsed once (about half of composing a message was the standard registry making a new
class for every header and parsing each anew): the bytes are those the standard policy
writes, however many messages share the parsed headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage

import pytest

from infra.notifications import compose as c
from infra.notifications.kinds import REVIEW_SOON, Kind
from infra.notifications.wording import Facts

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LETTERHEAD = c.Letterhead("Crafting <noreply@example.com>", "https://crafting.example", b"k" * 32)


def _facts(event_type: str, **more: object) -> Facts:
    return Facts(
        event_type=event_type,
        recipient_id="mgr-1",
        recipient_name="Mañana Ünïcode-Manager",
        actor_name="Émile Employee",
        employee_id="emp-1",
        employee_name="Émile Employee",
        title="Tester to product manager — a long title that folds " * 3,
        reason=None,
        event=None,
        **more,  # type: ignore[arg-type]
    )


def _messages() -> list[EmailMessage]:
    env = c.environment()
    common = {"to_address": "mgr-1@example.com", "agreement_id": "a-1", "now": NOW}
    return [
        c.compose(
            env,
            LETTERHEAD,
            _facts("Proposed"),
            message_key="m1",
            kind=Kind.DECISION_NEEDED,
            **common,  # type: ignore[arg-type]
        ),
        c.compose(
            env,
            LETTERHEAD,
            _facts(REVIEW_SOON, due_on=date(2026, 11, 9), today=date(2026, 11, 2)),
            message_key="m2",
            kind=Kind.REVIEW_DUE,
            **common,  # type: ignore[arg-type]
        ),
        c.compose_digest(
            env,
            LETTERHEAD,
            recipient_name="Mañana Manager",
            to_address="mgr-1@example.com",
            digest_key="d1",
            entries=[("One update", "https://crafting.example/agreements/a-1")] * 2,
            now=NOW,
        ),
    ]


def _bytes(messages: Callable[[], list[EmailMessage]]) -> list[bytes]:
    # Multipart boundaries are random; everything else is fixed by the inputs.
    return [re.sub(rb"={15}\d+==", b"=BOUNDARY=", m.as_bytes()) for m in messages()]


def test_messages_are_the_standard_policys_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    ours = _bytes(_messages)
    assert all(b"=BOUNDARY=" in b for b in ours)
    assert _bytes(_messages) == ours  # composed and written again, sharing parsed headers
    monkeypatch.setattr(c, "COMPOSE_POLICY", policy.SMTP)
    monkeypatch.setattr(c, "MAIL_POLICY", policy.SMTP.clone(max_line_length=998))
    assert _bytes(_messages) == ours


def test_header_classes_are_made_once() -> None:
    first, second = _messages()[0], _messages()[0]
    assert [type(v) for v in first.values()] == [type(v) for v in second.values()]
    assert all(type(a) is type(b) for a, b in zip(first.values(), second.values(), strict=True))


def test_fixed_headers_are_parsed_once_and_nothing_personal_is_kept() -> None:
    first, second = _messages()[0], _messages()[0]
    assert first["From"] is second["From"]
    assert first["MIME-Version"] is second["MIME-Version"]
    assert first["To"] is not second["To"]
    kept = " ".join(value for _, value in c._HEADERS._parsed)
    assert "mgr-1" not in kept and "Mañana" not in kept and "Tester" not in kept
    assert "boundary" not in kept


def test_a_date_is_parsed_once_for_the_messages_of_its_second() -> None:
    first, second = _messages()[0], _messages()[0]
    assert first["Date"] is second["Date"]
    assert first["Date"].datetime == NOW
    env, later = c.environment(), NOW.replace(second=1)
    other = c.compose(
        env,
        LETTERHEAD,
        _facts("Proposed"),
        to_address="a@example.com",
        message_key="m3",
        agreement_id="a-1",
        kind=Kind.DECISION_NEEDED,
        now=later,
    )
    assert other["Date"] is not first["Date"]
    assert other["Date"] == "Mon, 02 Nov 2026 09:30:01 +0000"
    assert other["Date"].datetime == later
