"""Where messages go: an SMTP server (`CRAFTING_SMTP_URL`: smtp:// with STARTTLS when
the server offers it, smtps:// with implicit TLS, user and password from the URL), or,
without one, a local mailbox file. Errors are sorted into: delivered, try again later
(4xx, a dropped connection), and refused for good (5xx: a hard bounce)."""

from __future__ import annotations

import mailbox
import os
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from enum import StrEnum
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit


class Outcome(StrEnum):
    SENT = "SENT"
    RETRY = "RETRY"  # temporary: the message waits
    BOUNCED = "BOUNCED"  # permanent: the address is marked, no more retries


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    error: str | None = None  # a category and code, never the server's text


class ServerUnavailable(Exception):
    """The server cannot be reached or dropped the connection: everything waits."""


class Connection(Protocol):
    def send(self, message: EmailMessage, to_address: str) -> Result: ...

    def close(self) -> None: ...


class Transport(Protocol):
    def open(self) -> Connection: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    user: str | None
    password: str | None
    timeout: float = 20.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 20.0) -> SmtpSettings:
        """Parse `smtp://user:password@host:port` or `smtps://…` (ValueError if not)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("must be smtp://host:port or smtps://host:port")
        implicit = parts.scheme == "smtps"
        port = parts.port or (465 if implicit else 587)
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, implicit, user, password, timeout)


class SmtpTransport:
    """Opens one SMTP session per batch; `tls_context` is for tests (own CA)."""

    def __init__(self, settings: SmtpSettings, tls_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.tls_context = tls_context or ssl.create_default_context()

    @property
    def name(self) -> str:
        return "smtp"

    def open(self) -> SmtpConnection:
        s = self.settings
        try:
            client: smtplib.SMTP
            if s.implicit_tls:
                client = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=self.tls_context
                )
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            client.ehlo()
            if not s.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=self.tls_context)
                client.ehlo()
            if s.user is not None:
                client.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise ServerUnavailable(f"authentication refused ({error.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as error:
            raise ServerUnavailable(
                f"cannot reach the mail server ({type(error).__name__})"
            ) from None
        return SmtpConnection(client)


class SmtpConnection:
    def __init__(self, client: smtplib.SMTP) -> None:
        self.client = client

    def send(self, message: EmailMessage, to_address: str) -> Result:
        sender = parseaddr(str(message["From"]))[1]
        try:
            self.client.send_message(message, from_addr=sender, to_addrs=[to_address])
        except smtplib.SMTPRecipientsRefused as error:
            code = next(iter(error.recipients.values()))[0]
            return _by_code(code, "recipient refused")
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            return _by_code(error.smtp_code, "message refused")
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise ServerUnavailable(f"connection lost ({type(error).__name__})") from None
        except smtplib.SMTPResponseException as error:
            return _by_code(error.smtp_code, "server answered")
        return Result(Outcome.SENT)

    def close(self) -> None:
        try:
            self.client.quit()
        except (OSError, smtplib.SMTPException):
            self.client.close()


def _by_code(code: int, what: str) -> Result:
    outcome = Outcome.BOUNCED if 500 <= code < 600 else Outcome.RETRY
    return Result(outcome, f"{what} ({code})")


class MailboxTransport:
    """Without a mail server: every message appended to a local mbox file (read it
    with `mutt -f FILE` or any mail client), beside the database."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def name(self) -> str:
        return "mailbox"

    def open(self) -> MailboxConnection:
        if not self.path.exists():  # personal data: readable by the service's user only
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        return MailboxConnection(self.path, self._lock)


class MailboxConnection:
    def __init__(self, path: Path, lock: threading.Lock) -> None:
        self.path, self.lock = path, lock

    def send(self, message: EmailMessage, to_address: str) -> Result:
        try:
            with self.lock:
                box = mailbox.mbox(self.path)
                box.lock()
                try:
                    box.add(message)
                    box.flush()
                finally:
                    box.unlock()
                    box.close()
        except OSError as error:
            raise ServerUnavailable(f"cannot write the mailbox ({type(error).__name__})") from None
        return Result(Outcome.SENT)

    def close(self) -> None:
        return None


class WebOnlyTransport:
    """No mail server and no mailbox file (PostgreSQL without CRAFTING_SMTP_URL): the
    messages count as sent and are read on the web app's Notifications page."""

    @property
    def name(self) -> str:
        return "web-only"

    def open(self) -> WebOnlyConnection:
        return WebOnlyConnection()


class WebOnlyConnection:
    def send(self, message: EmailMessage, to_address: str) -> Result:
        return Result(Outcome.SENT)

    def close(self) -> None:
        return None
