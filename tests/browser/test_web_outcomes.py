"""Recording and reverting an agreement's outcome in a real browser, by keyboard alone:
a refusal opens on its error summary whose links lead to the fields, the revert is asked
in a dialog, and the pages (agreement, refused form, the person's path) are looked at
at 320, 390 and 1280 px, axe clean."""

from __future__ import annotations

import re
from datetime import date

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.looks import looked_at
from tests.browser.pages import Console, accessible
from tests.browser.test_web_confirm import _approved


def test_the_manager_records_and_reverts_an_outcome_by_keyboard(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    ids = _approved(service)
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "completeAgreement",
        "AgreementCommandInput",
        "agreement { version }",
        agreementId=ids["mine"],
    )
    today = date.today()
    on = f"{today.day} {today:%B %Y}"

    def tab_to(page: Page, found: str, limit: int = 150) -> None:
        """Press Tab until the focused element matches the JS predicate `found`."""
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(e => {found})(document.activeElement)"):
                return
        raise AssertionError(f"never focused: {found}")

    def focused_id(page: Page) -> str:
        return str(page.evaluate("document.activeElement.id"))

    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context().new_page())
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{service.base}/agreements/{ids['mine']}")
            expect(page.get_by_text("No outcome recorded yet.", exact=False)).to_be_visible()
            looked_at(page, "outcome-none")

            # A stop without its reason: the form is refused, told at the top.
            tab_to(page, "e.id === 'outcome-kind'")
            page.keyboard.type("Stopped")
            assert page.locator("#outcome-kind").input_value() == "STOPPED"
            tab_to(page, "e.textContent.trim() === 'Record outcome'")
            page.keyboard.press("Enter")
            summary = page.locator("#error-summary")
            expect(summary).to_be_focused()
            assert page.title().startswith("Error: ")
            expect(summary).to_contain_text(
                "Say why it stopped: a reason is required for this outcome."
            )
            looked_at(page, "outcome-refused")
            # Its link leads to the field, which says the same beside it.
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.getAttribute('href')") == (
                "#outcome-reason"
            )
            page.keyboard.press("Enter")
            expect(page.locator("#outcome-reason")).to_be_focused()
            assert page.locator("#outcome-reason").get_attribute("aria-invalid") == "true"
            page.keyboard.type("Chose to stay in QA")
            page.keyboard.press("Tab")  # nothing between the reason and the button
            assert page.evaluate("document.activeElement.textContent.trim()") == "Record outcome"
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            said = page.locator("#agreement-outcome .outcome-now")
            expect(said).to_have_text(
                re.compile(rf"^Outcome: stopped on {on}, recorded by Morgan Manager \w+\.$")
            )
            expect(page.get_by_text("Why: Chose to stay in QA")).to_be_visible()
            looked_at(page, "outcome-recorded")

            # Reverting it: its reason, then the red button, asked in a dialog.
            tab_to(page, "e.id === 'revert-outcome-reason'")
            page.keyboard.type("Recorded on the wrong plan")
            page.keyboard.press("Tab")
            assert (
                page.evaluate("document.activeElement.textContent.trim()") == "Revert the outcome"
            )
            page.keyboard.press("Enter")
            dialog = page.locator("#confirm-dialog")
            expect(dialog).to_be_visible()
            expect(dialog).to_contain_text("Revert the outcome of “Tester to product manager")
            accessible(page)
            page.keyboard.press("Shift+Tab")
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.locator("#agreement-outcome")).to_contain_text(
                "No outcome in effect: the one recorded was reverted."
            )
            page.locator("#agreement-outcome summary").click()
            expect(page.locator("#agreement-outcome")).to_contain_text(
                re.compile(r"reverted by Morgan Manager \w+: Recorded on the wrong plan")
            )
            looked_at(page, "outcome-reverted")
            assert focused_id(page) != "error-summary"

            # The person's path on their career page.
            page.goto(f"{service.base}/people/{ids['emp']}/career")
            expect(page.get_by_role("heading", name="Path")).to_be_visible()
            looked_at(page, "career-path")
        finally:
            browser.close()
    assert console.unexpected() == []
