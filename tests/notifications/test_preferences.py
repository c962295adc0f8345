"""Per person and kind: immediately, a daily digest at their hour, or off; and the
signed unsubscribe link that turns one kind off for one person."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from infra.bootstrap import Container
from infra.notifications.kinds import Kind, Mode
from infra.notifications.planner import next_local_hour
from infra.notifications.preferences import (
    Choices,
    InvalidPreference,
    choices_of,
    save_choices,
    turn_off,
)
from infra.notifications.tables import outbox
from infra.notifications.transport import SmtpSettings, SmtpTransport
from infra.notifications.unsubscribe import link_key, read_token, unsubscribe_token
from tests.notifications.story import Story, plain, settle
from tests.smtp_sink import smtp_server

SECRET = "test-secret-for-unsubscribe-links-0123456789"


def _choices(**modes: Mode) -> Choices:
    chosen = {kind: Mode.IMMEDIATE for kind in Kind}
    chosen.update({Kind(k): m for k, m in modes.items()})
    return Choices(chosen, 7, "Europe/Berlin")


def test_off_daily_and_immediate_each_do_what_they_say(
    container: Container, tmp_path: Path
) -> None:
    container.prepare()
    with smtp_server(tmp_path / "mail") as server:
        notify = container.notifications(SECRET, SmtpTransport(SmtpSettings.from_url(server.url)))
        story = Story(container.app)
        engine = container.engines.writer

        save_choices(engine, story.priya, _choices(decision_needed=Mode.OFF))
        story.propose()
        settle(container)
        notify.round()
        assert server.count() == 0  # off: nothing sent, nothing kept for later
        with engine.connect() as conn:
            assert conn.execute(select(outbox)).first() is None

        save_choices(engine, story.priya, _choices(decision_needed=Mode.DAILY))
        assert choices_of(engine, story.priya).modes[Kind.DECISION_NEEDED] == Mode.DAILY
        story.propose()
        story.propose()
        settle(container)
        notify.round()
        assert server.count() == 0  # held for the digest
        with engine.connect() as conn:
            due = {r.next_attempt_at for r in conn.execute(select(outbox))}
        (at,) = due
        local = datetime.fromtimestamp(at, ZoneInfo("Europe/Berlin"))
        assert (local.hour, local.minute) == (7, 0)
        assert at > datetime.now(UTC).timestamp()
        with engine.begin() as conn:  # the morning comes
            conn.execute(update(outbox).values(next_attempt_at=0))
        notify.round()
        (digest,) = server.messages()
        assert str(digest["Subject"]) == "Your daily digest: 2 updates"
        assert plain(digest).count("Sam Tester proposed") == 2
        notify.round()
        assert server.count() == 1  # sent once

        save_choices(engine, story.priya, _choices())
        story.propose()
        settle(container)
        notify.round()
        assert server.count() == 2  # immediately again


def test_the_unsubscribe_link_is_for_its_person_and_kind_only() -> None:
    key = link_key(SECRET)
    token = unsubscribe_token(key, "priya", Kind.DECISION_NEEDED)
    assert read_token(key, token) == ("priya", Kind.DECISION_NEEDED)
    _body, _, mac = token.partition(".")
    other = unsubscribe_token(key, "sam", Kind.DECISION_NEEDED).partition(".")[0]
    assert read_token(key, f"{other}.{mac}") is None  # someone else's body, Priya's signature
    assert read_token(key, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None
    assert read_token(link_key("another-secret-entirely-0123456789abcdef"), token) is None
    assert read_token(key, "garbage") is None


def test_turning_a_kind_off_drops_what_waits_for_it(container: Container) -> None:
    container.prepare()
    notify = container.notifications(SECRET)
    story = Story(container.app)
    story.propose()
    settle(container)
    notify.follower.catch_up()
    turn_off(container.engines.writer, story.priya, Kind.DECISION_NEEDED)
    assert notify.backlog().pending == 0
    assert choices_of(container.engines.writer, story.priya).modes[Kind.DECISION_NEEDED] == Mode.OFF


def test_a_digest_hour_is_the_persons_local_hour() -> None:
    noon_utc = datetime(2026, 7, 1, 12, 0, tzinfo=UTC).timestamp()
    at = next_local_hour(noon_utc, 8, "America/New_York")  # 08:00 EDT = 12:00 UTC: next day
    assert datetime.fromtimestamp(at, UTC) == datetime(2026, 7, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("hour", "zone"), [(24, "UTC"), (-1, "UTC"), (8, "Mars/Olympus")])
def test_impossible_choices_are_refused(container: Container, hour: int, zone: str) -> None:
    container.prepare()
    with pytest.raises(InvalidPreference):
        save_choices(container.engines.writer, "p", Choices({}, hour, zone))
