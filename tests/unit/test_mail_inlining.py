"""The HTML parts' CSS is inlined once per template, not once per message: every mail is
the same, byte for byte, as when each rendered message was inlined as a whole.

`data/mail_inlining.json` holds the SHA-256 of the messages composed by fol29 (f73a2df), where every
message was inlined as a whole: every notification kind, a digest, a sign-in mail, with
awkward values (markup and quotes in names, non-breaking spaces, long texts, carriage
returns, control characters). Regenerate it only from a tree that inlines per message:
`PYTHONPATH=<that tree> python tests/unit/test_mail_inlining.py --write`."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra.notifications import compose as c
from infra.notifications.kinds import REVIEW_OVERDUE, REVIEW_SOON, Kind
from infra.notifications.wording import Facts

EXPECTED = Path(__file__).parent / "data" / "mail_inlining.json"
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LETTERHEAD = c.Letterhead("Crafting <noreply@example.com>", "https://crafting.example", b"k" * 32)

AWKWARD = [
    "Mara Manager",
    '<b>O\'Brien</b> & "Sons" <script>alert(1)</script>',
    "Zoë\xa0Ünïcode — “quoted” \u2018single\u2019 🙂",
    "a &amp; b &lt;c&gt; &#39; &quot; &nbsp;",
    "Line one\r\nline two\rline three\nline four",
    "tab\there, form\x0cfeed, bell\x07, nul-free",
    "long " * 200,
    "",
]


def _one_line(name: str) -> str:
    return "Plain" if len(name.splitlines()) > 1 else name  # headers hold no line break


def _facts(event_type: str, text: str, **more: Any) -> Facts:
    name = _one_line(text)  # reasons and details may hold line breaks, subjects not
    values: dict[str, Any] = {
        "event_type": event_type,
        "recipient_id": "mgr-1",
        "recipient_name": name or "Mara",
        "actor_name": f"Actor {name}",
        "employee_id": "emp-1",
        "employee_name": f"Employee {name}",
        "title": f"Title {name}",
        "reason": f"Because {text}",
        "event": None,
    }
    return Facts(**(values | more))


def _events(name: str) -> dict[str, Any]:
    return {
        "approved": SimpleNamespace(
            guardrails=SimpleNamespace(
                max_development_hours_per_week=4.5,
                review_every_days=30,
                protected_responsibilities=[f"On-call {name}", "Release notes"],
            ),
            next_review_on=date(2026, 12, 2),
        ),
        "approved_bare": SimpleNamespace(
            guardrails=SimpleNamespace(
                max_development_hours_per_week=1,
                review_every_days=14,
                protected_responsibilities=[],
            ),
            next_review_on=date(2027, 1, 5),
        ),
        "reallocated": SimpleNamespace(
            reallocation=SimpleNamespace(
                to_person_id="mgr-1",
                from_person_id="emp-1",
                task=f"Task {_one_line(name)}",
                hours_per_week=2,
                effective_on=date(2026, 11, 9),
                reason=f"Reason {name}",  # not in a subject
            )
        ),
        "adjusted": SimpleNamespace(
            adjustment=SimpleNamespace(description=f"Adjustment {name}", hours_per_week=1.5)
        ),
        "held": SimpleNamespace(person_ids=["a", "b", "c"]),
    }


def _notifications(name: str) -> list[Facts]:
    e = _events(name)
    names = {"mgr-1": f"Receiver {_one_line(name)}", "emp-1": f"Giver {_one_line(name)}"}
    review = {"due_on": date(2026, 11, 9), "today": date(2026, 11, 2)}
    return [
        _facts("Proposed", name),
        _facts("ProposalRevised", name, title=None),
        _facts("Approved", name, event=e["approved"], recipient_id="emp-1"),
        _facts("Approved", name, event=e["approved_bare"]),
        _facts("Approved", name, event=None),
        _facts("ChangesRequested", name),
        _facts("Rejected", name, reason=None),
        _facts("TaskReallocated", name, event=e["reallocated"], names=names),
        _facts("TaskReallocated", name, event=e["reallocated"], names=names, recipient_id="x"),
        _facts("AdjustmentAdded", name, event=e["adjusted"]),
        _facts("ChangeReverted", name),
        _facts("Paused", name),
        _facts("Resumed", name),
        _facts("Completed", name),
        _facts(REVIEW_SOON, name, **review),
        _facts(REVIEW_OVERDUE, name, recipient_id="emp-1", **review),
        _facts("LegalHoldPlaced", name),
        _facts("DeactivationsHeld", name, event=e["held"]),
        _facts("DeactivationsHeld", name, event=None),
    ]


def _written(message: Any) -> str:
    text = message.as_bytes().decode("ascii")
    text = re.sub(r"={15}\d+==", "=BOUNDARY=", text)  # multipart boundaries are random
    return re.sub(r"Message-ID: <[^>]+>", "Message-ID: <random>", text)  # sign-in's


def messages() -> dict[str, str]:
    """Every case's message as written for SMTP."""
    env = c.environment()
    written: dict[str, str] = {}
    for n, name in enumerate(AWKWARD):
        for facts in _notifications(name):
            message = c.compose(
                env,
                LETTERHEAD,
                facts,
                to_address="mgr-1@example.com",
                message_key=f"m{n}",
                agreement_id=None if facts.event_type == "LegalHoldPlaced" else "a-1",
                kind=Kind.DECISION_NEEDED,
                now=NOW,
            )
            key = f"{n} {facts.event_type} {facts.recipient_id} {facts.title is None}"
            key += f" {facts.event is None} {len(written)}"
            written[key] = _written(message)
        for count in (1, 3):
            digest = c.compose_digest(
                env,
                LETTERHEAD,
                recipient_name=_one_line(name),
                to_address="mgr-1@example.com",
                digest_key=f"d{n}",
                entries=[
                    (f"Update {name} {i}", f"https://x.example/a?{name}&i={i}")
                    for i in range(count)
                ],
                now=NOW,
            )
            written[f"{n} digest {count}"] = _written(digest)
        signin = c.compose_signin(
            env,
            LETTERHEAD,
            recipient_name=_one_line(name),
            to_address="mgr-1@example.com",
            link=f'https://crafting.example/signin/{n}?a=1&b="{name[:5]}"',
            now=NOW,
        )
        written[f"{n} signin"] = _written(signin)
    return written


def _digests() -> dict[str, str]:
    return {key: hashlib.sha256(m.encode()).hexdigest() for key, m in messages().items()}


def test_every_mail_is_the_same_as_when_inlined_per_message() -> None:
    expected = json.loads(EXPECTED.read_text())
    ours = _digests()
    assert list(ours) == list(expected)
    for key, message in ours.items():
        assert message == expected[key], key


def test_html_parts_are_not_inlined_per_message(monkeypatch: pytest.MonkeyPatch) -> None:
    env = c.environment()
    for name in ("message.html", "digest.html", "signin.html"):
        assert c._inlined_template(env, name) is not None  # inlined once, here
    inlined: list[str] = []

    class Counted:
        def inline(self, html: str) -> str:
            inlined.append(html)
            return html

    monkeypatch.setattr(c, "_INLINER", Counted())
    for name in AWKWARD[:4] + AWKWARD[6:]:  # no carriage return, no control character
        for facts in _notifications(name):
            c.compose(
                env,
                LETTERHEAD,
                facts,
                to_address="a@x.example",
                message_key="m",
                agreement_id="a-1",
                kind=Kind.DECISION_NEEDED,
            )
    c.compose_digest(
        env, LETTERHEAD, recipient_name="A", to_address="a@x.example", digest_key="d",
        entries=[("s", "l")],
    )  # fmt: skip
    c.compose_signin(env, LETTERHEAD, recipient_name="A", to_address="a@x.example", link="l")
    assert inlined == []
    c.compose_digest(
        env, LETTERHEAD, recipient_name="A", to_address="a@x.example", digest_key="d",
        entries=[("line\r\nbreak", "l")],
    )  # fmt: skip
    assert len(inlined) == 1  # a value the parser changes: this message inlined whole


@pytest.mark.parametrize("name", ["message.html", "digest.html", "signin.html"])
@pytest.mark.parametrize("value", [*AWKWARD, "\x00nul", "\x85next", "x" * 5000])
def test_a_template_inlined_once_renders_as_each_message_inlined(name: str, value: str) -> None:
    env = c.environment()
    context: dict[str, Any] = {
        "subject": value,
        "headline": value,
        "paragraphs": [value, value + " two"],
        "details": [(value, value), ("Time", value)],
        "action": value,
        "link": "https://x.example/?" + value,
        "recipient_name": value,
        "settings_link": value,
        "unsubscribe_link": value,
        "entries": [{"subject": value, "link": value}, {"subject": "b", "link": "c"}],
    }
    whole = c._INLINER.inline(env.get_template(name).render(context))
    assert c.html_part(env, name, context) == whole


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    EXPECTED.write_text(json.dumps(_digests(), indent=0) + "\n")
