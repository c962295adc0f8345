"""Notifications in a real browser against a real `crafting serve` (no SMTP: the local
mailbox and the web app): the manager sees "Inbox 1" and "Notifications 1" in the
navigation, opens the Notifications page and follows the link to the proposal; the
settings page; axe on each, at 320, 390 and 1280 px (screenshots kept for a look)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible, open_menu
from tests.processes import eventually

WIDTHS = (320, 390, 1280)
SHOTS = Path(__file__).parents[2] / "tests" / "browser" / "shots"


@pytest.fixture
def service_variables(tmp_path: Path) -> dict[str, str]:
    return {"CRAFTING_MAILBOX_PATH": str(tmp_path / "mailbox")}


def test_the_nav_counts_and_the_notifications_pages(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    _, ids = service.team("mgr", "sam", names={"mgr": "Priya Raman", "sam": "Sam Tester"})
    proposed = service.gql(
        ids["sam"],
        Role.EMPLOYEE,
        "proposeAgreement",
        "ProposeAgreementInput",
        "agreement { id }",
        title="Own the discovery for bulk export v2",
        careerGoal={"targetRole": "Product manager", "skills": ["discovery"]},
        adjustments=[{"kind": "TASK", "description": "Write one brief", "hoursPerWeek": 2}],
    )
    aid = agreement_uuid(proposed["agreement"]["id"])
    mailbox = tmp_path / "mailbox"
    assert eventually(lambda: mailbox.exists() and b"Own the discovery" in mailbox.read_bytes(), 20)
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            for width in WIDTHS:
                page = console.watch(browser.new_page(viewport={"width": width, "height": 800}))
                page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
                page.get_by_role("button", name="Sign in").click()
                nav = open_menu(page)  # on a phone, behind "Menu"
                expect(nav.get_by_role("link", name="Inbox 1")).to_be_visible()
                # Unseen until the page is first opened (at the first width).
                unseen = "Notifications 1 new" if width == WIDTHS[0] else "Notifications"
                notifications = nav.get_by_role("link", name=unseen, exact=True)
                expect(notifications).to_be_visible()
                accessible(page)
                if width == 390:
                    SHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=SHOTS / f"nav-{width}.png", full_page=True)
                notifications.click()
                expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
                accessible(page)
                page.screenshot(path=SHOTS / f"notifications-{width}.png", full_page=True)
                page.get_by_role("link", name="Choose what you are told").click()
                expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
                accessible(page)
                page.screenshot(path=SHOTS / f"settings-{width}.png", full_page=True)
                page.goto(f"{service.base}/notifications")
                page.get_by_role("link", name="Sam Tester").first.click()
                expect(page).to_have_url(f"{service.base}/agreements/{aid}")
                page.context.close()
        finally:
            browser.close()
    assert console.unexpected() == []


def test_sign_in_by_email_pages(chromium: str, service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            for width in WIDTHS:
                page = console.watch(browser.new_page(viewport={"width": width, "height": 800}))
                page.goto(f"{service.base}/signin")
                field = page.get_by_label("Your work e-mail address")
                expect(field).to_be_visible()
                accessible(page)
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SHOTS / f"signin-{width}.png", full_page=True)
                page.get_by_role("button", name="E-mail me a sign-in link").click()
                expect(page.get_by_text("Enter your work e-mail address")).to_be_visible()
                accessible(page)
                page.get_by_label("Your work e-mail address").fill(f"someone-{width}@example.com")
                page.get_by_role("button", name="E-mail me a sign-in link").click()
                expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
                accessible(page)
                page.screenshot(path=SHOTS / f"signin-sent-{width}.png", full_page=True)
                page.context.close()
        finally:
            browser.close()
    assert [e for e in console.unexpected() if "400" not in e] == []
