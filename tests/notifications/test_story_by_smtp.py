"""The seed story told by e-mail, through a real SMTP server (aiosmtpd, own process)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from icalendar import Calendar

from domain.application import commands as c
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal
from infra.bootstrap import Container
from infra.notifications.transport import SmtpSettings, SmtpTransport
from tests.notifications.story import Story, html, plain, settle, to
from tests.smtp_sink import smtp_server

SECRET = "test-secret-for-unsubscribe-links-0123456789"


def test_the_seed_story_reaches_each_person_once_with_what_they_need(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    with smtp_server(tmp_path / "mail") as server:
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(server.url)))
        story = Story(container.app)
        aid = story.propose()
        settle(container)
        notify.round()

        mails = server.messages()
        assert len(mails) == 1, [m["Subject"] for m in mails]
        (to_priya,) = to(mails, story.address(story.priya))
        assert to_priya.get_content_type() == "multipart/alternative"
        assert "Sam Tester proposed" in str(to_priya["Subject"])
        assert f"/agreements/{aid}" in plain(to_priya)
        assert f'href="http://127.0.0.1:8000/agreements/{aid}"' in html(to_priya)
        assert 'style="' in html(to_priya)  # CSS inlined for mail clients
        assert to_priya["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # Literal, as mail clients read it (not folded into encoded words).
        (raw,) = [p.read_bytes() for p in server.directory.glob("*.eml")]
        assert b"\nList-Unsubscribe: <http://127.0.0.1:8000/notifications/unsubscribe/" in raw

        story.run(
            story.as_priya,
            c.RequestChanges(agreement_id=aid, reason="Name the feature you will brief"),
        )
        settle(container)
        notify.round()
        (to_sam,) = to(server.messages(), story.address(story.sam))
        assert "Priya Raman asked for changes" in str(to_sam["Subject"])
        assert "Name the feature you will brief" in plain(to_sam)

        story.run(
            story.as_sam,
            c.ReviseProposal(
                agreement_id=aid,
                title="From testing toward product management",
                career_goal=CareerGoal("Product manager", ("customer research",)),
                adjustments=[AdjustmentDraft(AdjustmentKind.TASK, "Brief bulk export v2", 2)],
            ),
        )
        story.approve(aid)
        story.run(
            story.as_priya,
            c.ReallocateTask(
                agreement_id=aid,
                task="Regression triage",
                hours_per_week=2,
                to_person_id=story.lena,
                reason="Frees Sam's two hours",
            ),
        )
        settle(container)
        notify.round()
        mails = server.messages()
        (to_lena,) = to(mails, story.address(story.lena))
        assert "handing you “Regression triage”" in str(to_lena["Subject"])
        assert "Frees Sam's two hours" in plain(to_lena)
        # Priya acted each time after the proposal: she was never told of her own acts.
        assert len(to(mails, story.address(story.priya))) == 2  # proposed, revised
        sam_subjects = [str(m["Subject"]) for m in to(mails, story.address(story.sam))]
        assert len(sam_subjects) == 3, sam_subjects  # changes requested, approved, task handed on

        review_on = container.app.load_agreement(aid).next_review_on  # type: ignore[union-attr]
        assert review_on is not None
        assert notify.remind(force=True) == 0  # not yet within three days
        from infra.notifications.reminders import queue_reminders

        queued = queue_reminders(
            container.engines.writer,
            container.engines.reader,
            3,
            today=review_on - timedelta(days=1),
        )
        assert queued == 2
        notify.dispatcher.dispatch()
        reminders = [m for m in server.messages() if "Review due" in str(m["Subject"])]
        assert sorted(str(m["To"]).split("<")[1].rstrip(">") for m in reminders) == sorted(
            [story.address(story.sam), story.address(story.priya)]
        )
        for mail in reminders:
            (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
            calendar = Calendar.from_ical(part.get_payload(decode=True))
            (event,) = calendar.walk("VEVENT")
            assert event.decoded("dtstart") == review_on
        ids = [m["Message-ID"] for m in server.messages()]
        assert len(ids) == len(set(ids))


def test_deployed_on_an_existing_service_it_tells_nothing_old_and_everything_new(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    story = Story(container.app)
    aid = story.propose()  # history: before notifications were deployed
    settle(container)
    with smtp_server(tmp_path / "mail") as server:
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(server.url)))
        notify.round()
        assert server.count() == 0  # nobody is mailed about history
        story.run(story.as_priya, c.RequestChanges(agreement_id=aid, reason="Say which feature"))
        story.revise(aid)
        settle(container)
        notify.round()
        # Who manages whom and who owns the agreement were known from the start.
        told = sorted(str(m["To"]).split("<")[1].rstrip(">") for m in server.messages())
        assert told == sorted([story.address(story.sam), story.address(story.priya)])
