"""Actions that cannot be undone, in a real browser: red, and asked before they run —
in a dialog where script runs (Cancel changes nothing), on a page of its own without
script."""

from __future__ import annotations

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible, open_action
from tests.browser.test_web_manager import _scene

RED = "rgb(161, 21, 15)"  # the stylesheet's --bad


def _approved(service: Service) -> dict[str, str]:
    ids = _scene(service)
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "approveAgreement",
        "ApproveAgreementInput",
        "agreement { version }",
        agreementId=ids["mine"],
        guardrails={"maxDevelopmentHoursPerWeek": 4, "reviewEveryDays": 14},
    )
    return ids


def test_complete_and_pause_are_red_and_asked_in_a_dialog(chromium: str, service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _approved(service)
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context().new_page())
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{service.base}/agreements/{ids['mine']}")
            for form in ("form[action$='/revert']", "form[action$='/pause']"):
                open_action(page, form)  # one group open at a time: this one
                assert page.locator("details.group[open]").count() == 1
                for name in ("Pause", "Complete", "Revert"):
                    button = page.get_by_role("button", name=name, exact=True)
                    if button.count() and button.first.is_visible():
                        red = button.first.evaluate("b => getComputedStyle(b).backgroundColor")
                        assert red == RED, name
            plain = open_action(page, "form[action$='/review']").get_by_role("button")
            assert plain.evaluate("b => getComputedStyle(b).backgroundColor") != RED
            open_action(page, "form[action$='/complete']")

            page.get_by_role("button", name="Complete", exact=True).click()
            dialog = page.get_by_role("dialog")
            expect(dialog).to_contain_text("cannot be reopened")
            expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
            accessible(page)
            dialog.get_by_role("button", name="Cancel").click()
            expect(dialog).to_be_hidden()
            page.reload()
            expect(page.get_by_text("active", exact=True)).to_be_visible()

            open_action(page, "form[action$='/complete']")
            page.get_by_role("button", name="Complete", exact=True).click()
            page.get_by_role("dialog").get_by_role("button", name="Complete").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_text("completed", exact=True)).to_be_visible()
        finally:
            browser.close()
    assert console.unexpected() == []


def test_without_script_pausing_is_asked_on_a_page_first(chromium: str, service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _approved(service)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{service.base}/agreements/{ids['mine']}")
            form = open_action(page, "form[action$='/pause']")
            form.get_by_label("Reason (required)").fill("Release crunch")
            form.get_by_role("button", name="Pause").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Pause “")
            expect(page.get_by_text("Your reason: Release crunch")).to_be_visible()
            page.get_by_role("link", name="Cancel, keep it as it is").click()
            expect(page.get_by_text("active", exact=True)).to_be_visible()

            form = open_action(page, "form[action$='/pause']")
            form.get_by_label("Reason (required)").fill("Release crunch")
            form.get_by_role("button", name="Pause").click()
            page.get_by_role("button", name="Pause").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_text("paused", exact=True)).to_be_visible()
        finally:
            browser.close()
