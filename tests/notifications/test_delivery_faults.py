"""Faults on the way out: the SMTP server dies mid-batch, the sending process is
killed mid-send, an address bounces for good. Nothing is lost; a repeat is the same
mail (same Message-ID)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from domain.application import commands as c
from domain.person import Profile
from infra.bootstrap import Container
from infra.notifications.dispatcher import WRITE_EVERY, DispatchConfig
from infra.notifications.tables import BOUNCED, outbox
from infra.notifications.transport import SmtpSettings, SmtpTransport
from tests.notifications.story import Story, settle
from tests.processes import REPO
from tests.smtp_sink import smtp_server

SECRET = "test-secret-for-unsubscribe-links-0123456789"


def _proposals(story: Story, count: int) -> None:
    for _ in range(count):
        story.propose()


def _fast_retries(container: Container) -> None:
    config = container.notifications(SECRET).dispatcher.config
    object.__setattr__(config, "retry_min_seconds", 0.05)
    object.__setattr__(config, "retry_max_seconds", 0.2)


def test_a_mail_server_killed_mid_batch_and_restarted_loses_nothing(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    with smtp_server(tmp_path / "mail", delay=0.01) as server:
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(server.url)))
        _fast_retries(container)
        story = Story(container.app)
        _proposals(story, 60)
        settle(container)
        notify.follower.catch_up()
        sending = threading.Thread(target=notify.dispatcher.dispatch)
        sending.start()
        deadline = time.time() + 20
        while server.count() < 10 and time.time() < deadline:
            time.sleep(0.005)
        server.kill()  # mid-batch: some sent, the rest must wait
        sending.join(30)
        waiting = notify.backlog()
        assert 0 < waiting.pending < 60
        assert waiting.oldest_seconds > 0
        notify.dispatcher.dispatch()  # the server is down: they keep waiting
        assert notify.backlog().pending == waiting.pending

        server.start()  # back on the same port
        deadline = time.time() + 30
        while notify.backlog().pending and time.time() < deadline:
            notify.dispatcher.dispatch()
            time.sleep(0.05)
        assert notify.backlog().pending == 0
        ids = Counter(str(m["Message-ID"]) for m in server.messages())
        assert len(ids) == 60  # every message arrived, each under its own Message-ID
        # A mail the server stored just before dying, unanswered, may come twice (one per
        # SMTP session in flight): as itself.
        assert sum(ids.values()) - 60 <= DispatchConfig().connections


def test_the_sending_process_killed_mid_send_loses_nothing(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'crafting.db'}"
    env = {
        **os.environ,
        "CRAFTING_DATABASE_URL": database,
        "CRAFTING_JWT_SECRET": secrets.token_urlsafe(48),
        "CRAFTING_NOTIFY_RETRY_MIN_SECONDS": "0.05",
        "CRAFTING_NOTIFY_RETRY_MAX_SECONDS": "0.2",
        "CRAFTING_LOG_LEVEL": "WARNING",
    }
    from infra.bootstrap import bootstrap
    from infra.settings import Settings
    from infra.signing import new_private_key

    env["CRAFTING_SIGNING_KEY"] = new_private_key()
    container = bootstrap(Settings(database_url=database, signing_key=env["CRAFTING_SIGNING_KEY"]))
    try:
        container.prepare()
        container.notifications(env["CRAFTING_JWT_SECRET"])  # deployed: follows from here
        story = Story(container.app)
        _proposals(story, 80)
        settle(container)
    finally:
        container.close()
    with smtp_server(tmp_path / "mail", delay=0.01) as server:
        env["CRAFTING_SMTP_URL"] = server.url
        worker = [sys.executable, "-m", "tests.notifications.send_worker"]
        first = subprocess.Popen(worker, env=env, cwd=REPO)
        deadline = time.time() + 30
        while server.count() < 15 and time.time() < deadline:
            time.sleep(0.005)
        first.send_signal(signal.SIGKILL)  # mid-send: no chance to write what it sent
        first.wait(10)
        assert 15 <= server.count() < 80
        second = subprocess.run(worker, env=env, cwd=REPO, timeout=60, check=False)
        assert second.returncode == 0
        ids = Counter(str(m["Message-ID"]) for m in server.messages())
    assert len(ids) == 80  # none lost
    # Repeats are only the messages sent but not yet recorded when it died, each
    # under the Message-ID it had the first time (so a mail client shows it once).
    assert sum(ids.values()) - 80 <= DispatchConfig().connections * WRITE_EVERY


def test_a_hard_bounce_marks_the_address_and_stops_retries(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    with smtp_server(tmp_path / "mail", refuse="@example.com") as server:
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(server.url)))
        story = Story(container.app)
        story.propose()
        settle(container)
        notify.round()
        with container.engines.reader.connect() as conn:
            statuses = [r.status for r in conn.execute(outbox.select())]
        assert statuses == [BOUNCED]
        assert notify.backlog().pending == 0
        story.propose()  # the next message to the bounced address is not attempted
        settle(container)
        notify.round()
        with container.engines.reader.connect() as conn:
            last = conn.execute(outbox.select().order_by(outbox.c.id.desc())).first()
        assert last is not None and last.status == "SKIPPED" and last.attempts == 0
        assert server.count() == 0
        # A new address is tried again.
        new = Profile("Priya Raman", f"{story.priya}@example.org", None, f"qa-{story.s}", 40, True)
        story.run(story.as_hr, c.UpsertPeople(people=[c.DirectoryEntry(story.priya, new)]))
        story.propose()
        settle(container)
        notify.round()
        (mail,) = server.messages()
        assert f"{story.priya}@example.org" in str(mail["To"])


def test_a_message_that_cannot_be_built_holds_up_no_other(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    with smtp_server(tmp_path / "mail") as server:
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(server.url)))
        story = Story(container.app)
        story.propose()
        story.propose()
        settle(container)
        notify.follower.catch_up()
        with container.engines.writer.begin() as conn:  # a kind this code has no words for
            first = conn.execute(outbox.select().order_by(outbox.c.id)).first()
            assert first is not None
            conn.execute(
                outbox.update().where(outbox.c.id == first.id).values(event_type="Unheard")
            )
        notify.round()
        assert server.count() == 1  # the other one went out
        with container.engines.reader.connect() as conn:
            statuses = [r.status for r in conn.execute(outbox.select().order_by(outbox.c.id))]
        assert statuses == ["SKIPPED", "SENT"]
