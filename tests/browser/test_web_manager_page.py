"""The manager's agreement page as it is used, in a real browser: the summary first
(status, what awaits whom, goal, hours against the guardrail), the actions in groups of
which one is open at a time (also without script), the approval's hours prefilled,
required fields marked, the latest reviews first with the rest behind "all", and no
next review once the agreement is over."""

from __future__ import annotations

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import open_action
from tests.browser.test_web_manager import _scene


def test_the_manager_s_page_starts_with_a_summary_and_opens_one_action_at_a_time(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _scene(service)
    s, aid = ids["s"], ids["mine"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            # Without script (axe needs script: the other tests run it on this page).
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{service.base}/agreements/{aid}")
            summary = page.locator("dl.summary")
            expect(summary).to_contain_text(f"AwaitsA decision by Morgan Manager {s}")
            expect(summary).to_contain_text("GoalProduct manager")
            # The summary comes before every action.
            first, manage = summary.bounding_box(), page.locator("#manage").bounding_box()
            assert first is not None and manage is not None and first["y"] < manage["y"]
            # The approval starts at the proposed hours; the required fields say so.
            hours = page.get_by_label("Most development hours per week (required)")
            expect(hours).to_have_value("1")
            expect(hours).to_have_attribute("aria-required", "true")
            open_action(page, "form[action$='/approve']").get_by_role("button").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.locator("dl.summary")).to_contain_text("1 of at most 1 (guardrail)")

            # One group open at a time, without script.
            expect(page.locator("details.group[open]")).to_have_count(0)
            open_action(page, "form[action$='/reallocate']")
            expect(page.get_by_label("Task (required)")).to_be_visible()
            open_action(page, "form[action$='/adjust']")
            expect(page.locator("details.group[open]")).to_have_count(1)
            expect(page.get_by_label("Task (required)")).to_be_hidden()

            for n in range(7):
                service.gql(
                    ids["mgr"],
                    Role.MANAGER,
                    "recordReview",
                    "RecordReviewInput",
                    "agreement { version }",
                    agreementId=aid,
                    outcome="ON_TRACK",
                    notes=f"Review number {n + 1}",
                    heldOn=f"2026-01-{n + 10:02d}",
                )
            page.reload()
            rows = page.locator("#reviews ~ .table-wrap tbody tr")
            for _ in range(50):
                if page.get_by_text("All 7 reviews").count():
                    break
                page.wait_for_timeout(100)
                page.reload()
            expect(rows).to_have_count(5)
            expect(rows.first).to_contain_text("Review number 7")  # the latest first
            page.get_by_role("link", name="All 7 reviews").click()
            expect(rows).to_have_count(7)

            open_action(page, "form[action$='/complete']").get_by_role("button").click()
            page.get_by_role("button", name="Complete").click()  # the page that asks
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.locator("dl.summary")).not_to_contain_text("Next review")
            expect(page.get_by_text("Next review:")).to_have_count(0)
        finally:
            browser.close()
