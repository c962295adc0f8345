"""The SMTP client against servers that insist: STARTTLS required and a login after it
(smtp://user:password@…), implicit TLS (smtps://), and a wrong password (the mail
waits, the password is never in what is logged or stored)."""

from __future__ import annotations

import ssl
from pathlib import Path

from sqlalchemy import select

from infra.bootstrap import Container
from infra.notifications.tables import outbox
from infra.notifications.transport import SmtpSettings, SmtpTransport
from tests.notifications.story import Story, settle
from tests.smtp_sink import SmtpServer, self_signed

SECRET = "test-secret-for-unsubscribe-links-0123456789"


def _trusting(cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    return context


def _server(tmp_path: Path, *extra: str) -> tuple[SmtpServer, ssl.SSLContext]:
    cert, key = self_signed(tmp_path)
    server = SmtpServer(tmp_path / "mail", extra=("--cert", str(cert), "--key", str(key), *extra))
    server.start()
    return server, _trusting(cert)


def test_starttls_then_login_when_the_server_requires_them(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    server, trust = _server(tmp_path, "--login", "crafting@example.com:s3cret pass")
    try:
        url = f"smtp://crafting%40example.com:s3cret%20pass@127.0.0.1:{server.port}"
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(url), trust))
        story = Story(container.app)
        story.propose()
        settle(container)
        notify.round()
        (mail,) = server.messages()
        assert story.address(story.priya) in str(mail["To"])
    finally:
        server.kill()


def test_a_wrong_password_leaves_the_mail_waiting_and_says_so_without_it(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    server, trust = _server(tmp_path, "--login", "crafting:right-password")
    try:
        url = f"smtp://crafting:wrong-password@127.0.0.1:{server.port}"
        settings = SmtpSettings.from_url(url, timeout=3)  # aiosmtpd stalls a failed login
        notify = container.notifications(SECRET, SmtpTransport(settings, trust))
        story = Story(container.app)
        story.propose()
        settle(container)
        notify.round()
        assert server.count() == 0
        assert notify.backlog().pending == 1
        with container.engines.reader.connect() as conn:
            (row,) = conn.execute(select(outbox)).all()
        assert row.last_error is not None  # why, in a category: never the server's text
        assert "wrong-password" not in row.last_error
    finally:
        server.kill()


def test_implicit_tls_with_smtps(container: Container, tmp_path: Path) -> None:
    container.prepare()
    server, trust = _server(tmp_path, "--implicit")
    try:
        url = f"smtps://127.0.0.1:{server.port}"
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(url), trust))
        story = Story(container.app)
        story.propose()
        settle(container)
        notify.round()
        assert server.count() == 1
    finally:
        server.kill()


def test_a_server_whose_certificate_is_not_trusted_gets_nothing(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    server, _ = _server(tmp_path)
    try:
        url = f"smtp://127.0.0.1:{server.port}"  # STARTTLS offered; the default trust store
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(url)))
        story = Story(container.app)
        story.propose()
        settle(container)
        notify.round()
        assert server.count() == 0
        assert notify.backlog().pending == 1
    finally:
        server.kill()
