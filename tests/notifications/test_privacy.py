"""What notifications keep and send about people: ids only at rest, nothing about
someone erased before the message went out."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from domain.application import commands as c
from infra.bootstrap import Container
from infra.notifications.tables import SKIPPED, outbox
from infra.notifications.transport import SmtpSettings, SmtpTransport
from tests.integration.test_integrity import Raw
from tests.notifications.story import Story, settle
from tests.smtp_sink import smtp_server

SECRET = "test-secret-for-unsubscribe-links-0123456789"


def _statuses(container: Container) -> list[str]:
    with container.engines.reader.connect() as conn:
        return [r.status for r in conn.execute(select(outbox).order_by(outbox.c.id))]


def test_an_employee_erased_between_event_and_send_is_not_sent_about(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    with smtp_server(tmp_path / "mail") as server:
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(server.url)))
        story = Story(container.app)
        story.propose()
        settle(container)
        notify.follower.catch_up()  # Priya's message is queued: ids only
        with container.engines.reader.connect() as conn:
            (row,) = conn.execute(select(outbox)).mappings().all()
        stored = " ".join(str(v) for v in row.values())
        for personal in ("Sam Tester", "example.com", "From testing", "Priya"):
            assert personal not in stored
        story.run(
            story.as_hr, c.ErasePerson(person_id=story.sam, reason="Left; asked to be erased")
        )
        settle(container)
        notify.round()
        assert server.count() == 0
        assert _statuses(container) == [SKIPPED]


def test_an_erased_recipient_gets_nothing(container: Container, tmp_path: Path) -> None:
    container.prepare()
    with smtp_server(tmp_path / "mail") as server:
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(server.url)))
        story = Story(container.app)
        story.propose()
        settle(container)
        notify.follower.catch_up()
        story.run(story.as_hr, c.ErasePerson(person_id=story.priya, reason="Asked to be erased"))
        # Not even waiting for the read models: her key is gone, her address unreadable.
        notify.dispatcher.dispatch()
        assert server.count() == 0
        assert _statuses(container) == [SKIPPED]
        story.propose()  # and nothing is planned for her any more
        settle(container)
        notify.round()
        assert server.count() == 0


def test_an_event_without_the_services_tag_tells_nobody_anything(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    with smtp_server(tmp_path / "mail") as server:
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(server.url)))
        story = Story(container.app)
        aid = story.propose()
        story.run(story.as_priya, c.RequestChanges(agreement_id=aid, reason="Say more"))
        raw = Raw(container)  # someone with database access alters the event
        raw.run(
            "UPDATE {t} SET state = ? WHERE originator_id = ? AND originator_version = 2",
            raw.state(aid, 2).replace(b'"_tag":"', b'"_tag":"0'),
            raw.key(aid),
        )
        settle(container)
        notify.round()
        (only,) = server.messages()
        assert story.address(story.priya) in str(only["To"])  # the proposal, nothing else
