"""Builds one e-mail from its facts: multipart/alternative (plain text, then HTML
with its CSS inlined), a Message-ID fixed by the outbox row, List-Unsubscribe with
one-click (RFC 8058), and for review reminders a calendar part."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup

from infra.notifications.ics import review_invite
from infra.notifications.kinds import REVIEW_OVERDUE, REVIEW_SOON, Kind
from infra.notifications.unsubscribe import unsubscribe_token
from infra.notifications.wording import Facts, Wording, words

# Beside the web app's templates (its package holds both; infra reads files, imports
# nothing of the web app).
TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "web" / "templates" / "mail"
_INLINER = css_inline.CSSInliner(keep_style_tags=False)


# The HTML parts' CSS inlined once per template instead of once per message. The
# stylesheets are constant, select by tag and class (never by a value) and a value never
# makes an element (it is escaped), so each element's style attribute is the template's:
# the template's source is inlined with its Jinja tags held as placeholders (`{% %}` as
# comments, which the HTML parser leaves where they are, even between a table's rows;
# `{{ }}` as words), and the tags put back.
# The inliner also re-writes the values it parsed: `&#39;` and `&#34;` come out as
# characters, `&nbsp;` for U+00A0, `&quot;` in attributes. So the values are escaped as
# its serializer writes them, and a value with a character the parser changes (carriage
# returns, other control characters, surrogates) is inlined per message as before.
# Messages are the same, byte for byte (tests/unit/test_mail_inlining.py).
_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_PARSER_CHANGES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class _PerMessage(Exception):
    """A value the HTML parser would change: this message is inlined as a whole."""


def _as_text(value: Any) -> Markup:
    text = str(value)
    if _PARSER_CHANGES.search(text):
        raise _PerMessage
    return Markup(  # noqa: S704 - escaped here, as the inliner's serializer escapes text
        text.replace("&", "&amp;")
        .replace("\xa0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _as_attribute(value: Any) -> Markup:
    text = str(value)
    if _PARSER_CHANGES.search(text):
        raise _PerMessage
    escaped = text.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace('"', "&quot;")
    return Markup(escaped)  # noqa: S704 - escaped here, as the inliner writes attributes


def inlined_source(source: str) -> str | None:
    """The template's source with its CSS inlined, or None when a placeholder did not
    come back exactly once (the template is then inlined per message)."""
    tags: list[str] = []

    def held(match: re.Match[str]) -> str:
        tags.append(match.group(0))
        number = len(tags) - 1
        return f"JINJA{number}X" if match.group(0).startswith("{{") else f"<!--JINJA{number}X-->"

    inlined = _INLINER.inline(_JINJA_TAG.sub(held, source))
    for number, tag in enumerate(tags):
        mark = f"JINJA{number}X" if tag.startswith("{{") else f"<!--JINJA{number}X-->"
        if inlined.count(mark) != 1:
            return None
        before = inlined[: inlined.index(mark)]
        if tag.startswith("{{"):
            in_tag = before.rfind("<") > before.rfind(">")
            tag = (
                "{{ ("
                + tag[2:-2].strip()
                + ")|"
                + ("mail_attribute" if in_tag else "mail_text")
                + " }}"
            )
        inlined = inlined.replace(mark, tag)
    return inlined


_INLINED: WeakKeyDictionary[Environment, dict[str, Template | None]] = WeakKeyDictionary()


def _inlined_template(env: Environment, name: str) -> Template | None:
    made = _INLINED.setdefault(env, {})
    if name not in made:
        source = env.loader.get_source(env, name)[0] if env.loader is not None else None
        inlined = inlined_source(source) if source is not None else None
        if inlined is None:
            made[name] = None
        else:
            env.filters.setdefault("mail_text", _as_text)
            env.filters.setdefault("mail_attribute", _as_attribute)
            made[name] = env.from_string(inlined)
    return made[name]


def html_part(env: Environment, name: str, context: dict[str, Any]) -> str:
    """The HTML template rendered with its CSS inlined."""
    template = _inlined_template(env, name)
    if template is not None:
        try:
            return template.render(context)
        except _PerMessage:
            pass
    return _INLINER.inline(env.get_template(name).render(context))


# Headers whose values are the same in every message (the service's sender, the MIME
# structure's types and encodings): parsed once. Never a recipient's or a subject's.
_FIXED = frozenset(
    {
        "auto-submitted",
        "content-transfer-encoding",
        "content-type",
        "from",
        "list-unsubscribe-post",
        "mime-version",
    }
)
_MOST_KEPT = 64  # a bound, in case a fixed header ever takes varying values


class _Headers(HeaderRegistry):
    """The standard header registry, its header classes made once per name and its
    fixed headers parsed once per value.

    The standard one makes a new class (`type(...)`) for every header set or read, and
    parses each header anew — about half of composing a message, which a worker following
    the log pays for every notification. Header objects are immutable strings (a
    message replaces them, never changes one), so the same one can serve every message;
    the messages are the same, byte for byte."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}
        self._parsed: dict[tuple[str, str], BaseHeader] = {}
        self._last_date: tuple[str, BaseHeader] | None = None

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made

    def __call__(self, name: str, value: str) -> BaseHeader:
        key = (name.lower(), value)
        if key[0] == "date":  # the same for every message composed within a second
            last = self._last_date
            if last is not None and last[0] == value:
                return last[1]
            dated = super().__call__(name, value)
            self._last_date = (value, dated)
            return dated
        if key[0] not in _FIXED or "boundary=" in value:  # a multipart's boundary: random
            return super().__call__(name, value)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = super().__call__(name, value)
            if len(self._parsed) < _MOST_KEPT:
                self._parsed[key] = parsed
        return parsed


_HEADERS = _Headers()
# policy.SMTP with the registry above (the messages are the same, byte for byte).
COMPOSE_POLICY = policy.SMTP.clone(header_factory=_HEADERS)
# Long headers (List-Unsubscribe's URL) must stay literal: folded as encoded words,
# mail clients would not find the link. 998 is RFC 5322's limit for a line.
MAIL_POLICY = COMPOSE_POLICY.clone(max_line_length=998)


@dataclass(frozen=True)
class Letterhead:
    """What every message shares: the sender, the links' base, the link key."""

    mail_from: str
    public_url: str
    link_key: bytes

    @property
    def domain(self) -> str:
        return self.mail_from.rpartition("@")[2].strip("> ") or "localhost"


def environment() -> Environment:
    """Jinja for the mail templates (HTML autoescaped, plain text not)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        # The templates ship with the code (a new release restarts the process): never
        # stat every template file on every message, which cost ~9% of a loaded worker.
        auto_reload=False,
    )


def message_id(message_key: str, letterhead: Letterhead) -> str:
    """The Message-ID of an outbox row: the same on every attempt."""
    return f"<{message_key}@{letterhead.domain}>"


def agreement_link(letterhead: Letterhead, agreement_id: str | None, event_type: str) -> str:
    """Where the reader acts: the agreement's page (the directory for HR's alerts)."""
    base = letterhead.public_url
    if agreement_id is None:
        return f"{base}/people"
    return f"{base}/agreements/{agreement_id}"


def compose(
    env: Environment,
    letterhead: Letterhead,
    facts: Facts,
    *,
    to_address: str,
    message_key: str,
    agreement_id: str | None,
    kind: Kind,
    now: datetime | None = None,
) -> EmailMessage:
    """The message for one outbox row, ready for SMTP."""
    now = now or datetime.now(UTC)
    wording = words(facts)
    link = agreement_link(letterhead, agreement_id, facts.event_type)
    unsubscribe = (
        f"{letterhead.public_url}/notifications/unsubscribe/"
        f"{unsubscribe_token(letterhead.link_key, facts.recipient_id, kind)}"
    )
    context = _context(wording, facts, link, unsubscribe, letterhead)
    message = EmailMessage(policy=COMPOSE_POLICY)
    message["Subject"] = wording.subject
    message["From"] = letterhead.mail_from
    message["To"] = formataddr((facts.recipient_name, to_address))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(message_key, letterhead)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(env.get_template("message.txt").render(context), cte="quoted-printable")
    html = html_part(env, "message.html", context)
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    if facts.event_type in (REVIEW_SOON, REVIEW_OVERDUE) and facts.due_on is not None:
        invite = review_invite(
            f"review-{agreement_id}-{facts.due_on:%Y%m%d}@{letterhead.domain}",
            facts.due_on,
            f"Review: {facts.title or 'crafting agreement'}",
            link,
            now,
        )
        message.add_alternative(
            invite,
            maintype="text",
            subtype="calendar",
            params={"method": "PUBLISH"},
            filename="review.ics",
        )
    return _for_sending(message)


def _for_sending(message: EmailMessage) -> EmailMessage:
    """Bodies were encoded with 76-character lines (quoted-printable: any relay takes
    them); headers are now written with RFC 5322's own limit, so none is mangled."""
    message.policy = MAIL_POLICY
    return message


def _context(
    wording: Wording, facts: Facts, link: str, unsubscribe: str, letterhead: Letterhead
) -> dict[str, object]:
    return {
        "subject": wording.subject,
        "headline": wording.headline,
        "paragraphs": wording.paragraphs,
        "details": wording.details,
        "action": wording.action,
        "link": link,
        "recipient_name": facts.recipient_name,
        "settings_link": f"{letterhead.public_url}/notifications/settings",
        "unsubscribe_link": unsubscribe,
    }


def compose_digest(
    env: Environment,
    letterhead: Letterhead,
    *,
    recipient_name: str,
    to_address: str,
    digest_key: str,
    entries: list[tuple[str, str]],
    now: datetime | None = None,
) -> EmailMessage:
    """One daily digest: a line and a link per update (subject, link)."""
    now = now or datetime.now(UTC)
    subject = f"Your daily digest: {len(entries)} update{'s' if len(entries) != 1 else ''}"
    context = {
        "subject": subject,
        "recipient_name": recipient_name,
        "entries": [{"subject": s, "link": link} for s, link in entries],
        "settings_link": f"{letterhead.public_url}/notifications/settings",
    }
    message = EmailMessage(policy=COMPOSE_POLICY)
    message["Subject"] = subject
    message["From"] = letterhead.mail_from
    message["To"] = formataddr((recipient_name, to_address))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(digest_key, letterhead)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(env.get_template("digest.txt").render(context), cte="quoted-printable")
    html = html_part(env, "digest.html", context)
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return _for_sending(message)


def compose_signin(
    env: Environment,
    letterhead: Letterhead,
    *,
    recipient_name: str,
    to_address: str,
    link: str,
    now: datetime | None = None,
) -> EmailMessage:
    """The e-mail carrying a single-use sign-in link (no unsubscribe: it was asked for)."""
    now = now or datetime.now(UTC)
    context = {"recipient_name": recipient_name, "link": link}
    message = EmailMessage(policy=COMPOSE_POLICY)
    message["Subject"] = "Your sign-in link for Crafting agreements"
    message["From"] = letterhead.mail_from
    message["To"] = formataddr((recipient_name, to_address))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=letterhead.domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(env.get_template("signin.txt").render(context), cte="quoted-printable")
    html = html_part(env, "signin.html", context)
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return _for_sending(message)
