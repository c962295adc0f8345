"""Notifications in the web app over HTTP: the navigation's counts, the Notifications
page, the settings page, and the one-click unsubscribe link (RFC 8058) that works
without a session and only for its person and kind."""

from __future__ import annotations

import re
import time
from html import unescape
from pathlib import Path

from domain.values import Role
from infra.notifications.kinds import Kind, Mode
from infra.notifications.preferences import choices_of
from infra.notifications.service import Notifications
from infra.notifications.unsubscribe import unsubscribe_token
from tests.e2e.conftest import Api, serving
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.web import browser, hidden_fields, sign_in
from tests.notifications.story import Story, settle
from tests.processes import eventually, free_port
from tests.smtp_sink import SmtpServer


def _notify(api: Api) -> Notifications:
    return api.container.notifications(api.secret)


def test_the_navigation_counts_and_the_page_lists_what_concerns_the_person(api: Api) -> None:
    story = Story(api.container.app)
    aid = story.propose()
    settle(api.container)
    _notify(api).follower.catch_up()
    priya = sign_in(api.client, api.secret, story.priya, Role.MANAGER, Role.EMPLOYEE)
    home = unescape(priya.get("/").text)
    assert re.search(r'href="/inbox">Inbox <span class="count">1<', home)
    assert re.search(r'href="/notifications">Notifications <span class="count">1<', home)
    assert '<span class="visually-hidden"> new</span>' in home  # what the 1 counts, said
    page = unescape(priya.get("/notifications").text)
    assert f'href="/agreements/{aid}"' in page
    assert "Sam Tester proposed “From testing toward product management”" in page
    # Seen now: the count is gone, the entry stays.
    again = unescape(priya.get("/").text)
    assert 'href="/notifications">Notifications</a>' in again
    assert "Sam Tester proposed" in priya.get("/notifications").text
    # Sam is told nothing about his own proposal.
    sam = sign_in(api.client, api.secret, story.sam, Role.EMPLOYEE)
    assert "Nothing yet." in sam.get("/notifications").text


def test_settings_are_saved_and_impossible_ones_refused_in_words(api: Api) -> None:
    story = Story(api.container.app)
    priya = sign_in(api.client, api.secret, story.priya, Role.MANAGER, Role.EMPLOYEE)
    page = priya.get("/notifications/settings").text
    fields = hidden_fields(page, "/notifications/settings")
    sent = {**fields, "mode-decision_needed": "DAILY", "hour": "7", "time_zone": "Europe/Berlin"}
    saved = priya.post("/notifications/settings", data=sent)
    assert saved.status_code == 303
    assert "Saved." in priya.get(saved.headers["location"]).text
    chosen = choices_of(api.container.engines.writer, story.priya)
    assert chosen.modes[Kind.DECISION_NEEDED] == Mode.DAILY
    assert (chosen.hour, chosen.time_zone) == (7, "Europe/Berlin")
    refused = priya.post("/notifications/settings", data={**sent, "time_zone": "Mars/Olympus"})
    assert refused.status_code == 400
    assert "Choose a time zone from the list" in refused.text
    assert "Traceback" not in refused.text
    forged = priya.post("/notifications/settings", data={**sent, "csrf_token": "x"})
    assert forged.status_code == 403


def test_one_click_unsubscribe_works_without_a_session_for_its_person_and_kind_only(
    api: Api,
) -> None:
    story = Story(api.container.app)
    key = _notify(api).dispatcher.letterhead.link_key
    token = unsubscribe_token(key, story.priya, Kind.DECISION_NEEDED)
    stranger = browser(api.client)  # no cookie at all
    asked = stranger.get(f"/notifications/unsubscribe/{token}")
    assert asked.status_code == 200 and "Stop these e-mails?" in asked.text
    engine = api.container.engines.writer
    assert choices_of(engine, story.priya).modes[Kind.DECISION_NEEDED] == Mode.IMMEDIATE
    done = stranger.post(
        f"/notifications/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert done.status_code == 200 and "will not get these e-mails" in done.text
    priya = choices_of(engine, story.priya).modes
    assert priya[Kind.DECISION_NEEDED] == Mode.OFF
    assert priya[Kind.REVIEW_DUE] == Mode.IMMEDIATE  # only its kind
    assert choices_of(engine, story.sam).modes[Kind.DECISION_NEEDED] == Mode.IMMEDIATE
    tampered = token.replace(
        token.split(".")[0], unsubscribe_token(key, story.sam, Kind.DECISION_NEEDED).split(".")[0]
    )
    refused = stranger.post(f"/notifications/unsubscribe/{tampered}")
    assert refused.status_code == 400 and "This link does not work" in refused.text
    assert choices_of(engine, story.sam).modes[Kind.DECISION_NEEDED] == Mode.IMMEDIATE


def test_readiness_and_metrics_show_the_mails_waiting_while_the_mail_server_is_down(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there yet: the mail server is down
    with serving(
        database_url,
        smtp_url=f"smtp://127.0.0.1:{port}",
        notify_retry_min_seconds=0.1,
        notify_retry_max_seconds=0.5,
    ) as api:
        story = Story(api.container.app)
        story.propose()
        settle(api.container)
        assert eventually(lambda: _backlog(api)["backlog"] == 1, timeout=10)
        time.sleep(0.2)
        waiting = _backlog(api)
        assert waiting["backlog"] == 1 and waiting["oldest_seconds"] > 0
        token = api.token("hr-metrics", Role.HR)
        metrics = api.client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
        assert "crafting_notifications_backlog 1.0" in metrics
        assert "crafting_notifications_backlog_oldest_seconds" in metrics
        server = SmtpServer(tmp_path / "mail")
        server.port = port
        server.start()  # the server is back: the service's follower sends what waited
        try:
            assert eventually(lambda: _backlog(api)["backlog"] == 0, timeout=15)
            (mail,) = server.messages()
            assert story.address(story.priya) in str(mail["To"])
        finally:
            server.kill()


def _backlog(api: Api) -> dict[str, float]:
    found: dict[str, float] = api.client.get("/readyz").json()["notifications"]
    return found
