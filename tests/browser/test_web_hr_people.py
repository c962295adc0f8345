"""HR's jobs in a real browser: the directory shows each person's legal hold and its
reason; HR places and lifts a hold from the person's page (a reason required, a refusal
in an error summary) and erases a person after a confirmation that names them — in a
dialog where script runs, on a page of its own without script. Afterwards the directory
row reads "[erased]", not the person's id, while HR's reason for the erasure still reads
on the person's page and the audit log."""

from __future__ import annotations

from typing import Any

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.looks import looked_at
from tests.browser.pages import Console, accessible, confirm


def _hr_signed_in(browser: Any, service: Service, s: str, *, script: bool = True) -> Any:
    page = browser.new_context(java_script_enabled=script).new_page()
    page.goto(service.link(f"hr-{s}", Role.HR))
    page.get_by_role("button", name="Sign in").click()
    return page


def _row(page: Any, name: str) -> Any:
    return page.locator("tbody tr", has=page.get_by_role("link", name=name, exact=True))


def test_hr_holds_lifts_and_erases_from_the_people_pages(chromium: str, service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    s, ids = service.team("mgr", "tess", names={"tess": "Tess Temp"})
    tess = f"Tess Temp {s}"
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(_hr_signed_in(browser, service, s))
            page.goto(f"{service.base}/people?q={s}")
            expect(_row(page, tess)).to_contain_text("—")  # no hold yet
            _row(page, tess).get_by_role("link", name=tess).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(tess)

            # No reason: refused, the summary takes the focus, the title says so.
            page.get_by_role("button", name="Place a hold").click()
            summary = page.locator("#error-summary")
            expect(summary).to_be_focused()
            expect(summary).to_contain_text("A reason is required")
            assert page.title().startswith("Error:")
            # By keyboard alone: from the summary to its field, type, send.
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            expect(page.locator("#hold-reason")).to_be_focused()
            page.keyboard.type("Litigation 2026-17 pending")
            page.keyboard.press("Tab")
            expect(page.get_by_role("button", name="Place a hold")).to_be_focused()
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.locator("#legal-hold")).to_contain_text(
                "On hold: Litigation 2026-17 pending"
            )
            looked_at(page, "hr-person-held")

            page.goto(f"{service.base}/people?q={s}")
            expect(_row(page, tess)).to_contain_text("On hold: Litigation 2026-17 pending")
            looked_at(page, "hr-people-held")

            # Erasing someone on hold is refused, in words that name them.
            _row(page, tess).get_by_role("link", name=tess).click()
            page.locator("#erase-reason").fill("Left; asked for erasure")
            page.get_by_role("button", name="Erase", exact=True).click()
            expect(page.locator("#confirm-dialog")).to_contain_text(f"Erase {tess}?")
            accessible(page)
            confirm(page)
            expect(page.locator("#error-summary")).to_contain_text(
                f"{tess} is under a legal hold: lift it before erasing them."
            )

            page.locator("#lift-reason").fill("Case settled")
            page.get_by_role("button", name="Lift the hold").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.locator("#legal-hold")).to_have_text("None")

            erase = page.locator("form[action$='/erase']")
            expect(page.locator("#erase")).to_contain_text("Do not put personal data")
            erase.get_by_label("Reason for erasing (required)").fill("Left; asked for erasure")
            erase.get_by_role("button", name="Erase").click()
            confirm(page)
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_role("heading", level=1)).to_have_text("[erased]")
            expect(page.locator("form[action$='/erase']")).to_have_count(0)
            # HR's reason is HR's, not the person's: it still reads, here and in the log.
            expect(page.locator("#erasure")).to_contain_text("Left; asked for erasure")
            looked_at(page, "hr-person-erased")
            page.goto(f"{service.base}/audit?type=PersonErased&actor=hr-{s}")
            expect(page.locator("tbody tr").first).to_contain_text("Left; asked for erasure")
            looked_at(page, "audit-erasure-reason")

            # The directory: "[erased]" and nothing of theirs (not their id), and erased.
            # (Found by the id HR typed: ids are not personal data here, names are.)
            page.goto(f"{service.base}/people?q={ids['tess']}")
            row = _row(page, "[erased]")
            expect(row).not_to_contain_text(ids["tess"])
            expect(row.locator("td").nth(4)).to_have_text("erased")
            looked_at(page, "hr-people-erased")
        finally:
            browser.close()
    assert console.unexpected() == []


def test_without_script_erasing_is_asked_on_a_page_that_names_them(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    s, _ids = service.team("mgr", "tess", names={"tess": "Tess Temp"})
    tess = f"Tess Temp {s}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            # The page that asks, looked at (axe needs script: the dialog is taken away).
            looks = _hr_signed_in(browser, service, s)
            looks.goto(f"{service.base}/people?q={s}")
            _row(looks, tess).get_by_role("link", name=tess).click()
            looks.locator("form[action$='/erase']").evaluate("f => delete f.dataset.confirm")
            looks.locator("#erase-reason").fill("Asked for erasure")
            looks.get_by_role("button", name="Erase", exact=True).click()
            expect(looks.get_by_role("heading", level=1)).to_have_text(f"Erase {tess}?")
            looked_at(looks, "hr-erase-confirm")

            page = _hr_signed_in(browser, service, s, script=False)
            page.goto(f"{service.base}/people?q={s}")
            _row(page, tess).get_by_role("link", name=tess).click()
            page.locator("#erase-reason").fill("Asked for erasure")
            page.get_by_role("button", name="Erase", exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(f"Erase {tess}?")
            expect(page.get_by_text("Your reason: Asked for erasure")).to_be_visible()
            page.get_by_role("link", name="Cancel, keep them").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(tess)  # unchanged

            page.locator("#erase-reason").fill("Asked for erasure")
            page.get_by_role("button", name="Erase", exact=True).click()
            page.get_by_role("button", name=f"Erase {tess}").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_role("heading", level=1)).to_have_text("[erased]")
        finally:
            browser.close()
