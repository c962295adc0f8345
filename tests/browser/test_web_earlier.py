"""An agreement with a long history in a real browser: its page shows the latest
adjustments and changes in effect, the earlier ones are a link away (reached by
keyboard, without script too), their page says which range it shows and leads on; axe
finds nothing serious, nothing scrolls sideways at 320, 390 and 1280 px (screenshots
kept by `looked_at`)."""

from __future__ import annotations

from api.web.agreements import LIST_SHOWN
from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.looks import looked_at
from tests.browser.pages import Console

FOCUSED = "document.activeElement && document.activeElement.textContent.trim()"


def _long(service: Service, extra: int) -> tuple[dict[str, str], str]:
    """An approved agreement with `extra` adjustments added by the manager."""
    names = {"mgr": "Morgan Manager", "emp": "Erin Tester"}
    s, ids = service.team(*names, names=names)
    title = f"Tester to product manager {s}"
    aid = service.approved(ids["emp"], ids["mgr"], title, hours=1, most=20)
    manager = (ids["mgr"], Role.MANAGER)
    for n in range(1, extra + 1):
        service.gql(
            *manager,
            "addAdjustment",
            "AddAdjustmentInput",
            "agreement { version }",
            agreementId=aid,
            adjustment={"kind": "COGNITIVE", "description": f"Step {n:02d}", "hoursPerWeek": 0},
        )
    return ids, aid


def test_earlier_adjustments_and_changes_are_a_keyboard_step_away(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    extra = LIST_SHOWN + 4
    ids, aid = _long(service, extra)
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_page())
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{service.base}/agreements/{aid}")
            more = page.get_by_role("link", name="Earlier adjustments (5 more)")
            for _ in range(100):  # the projector catching up with the last adjustment
                if more.count():
                    break
                page.wait_for_timeout(100)
                page.reload()
            expect(page.locator("#adjustments ~ ul li").last).to_contain_text(f"Step {extra}")
            looked_at(page, "agreement-latest")

            # By keyboard: Tab to the link, Enter follows it.
            for _ in range(400):
                page.keyboard.press("Tab")
                if page.evaluate(FOCUSED) == "Earlier adjustments (5 more)":
                    break
            assert page.evaluate(FOCUSED) == "Earlier adjustments (5 more)"
            page.keyboard.press("Enter")
            heading = page.get_by_role("heading", level=2)
            expect(heading).to_have_text(f"Adjustments 1 to 5 of {extra + 1}")
            expect(page.get_by_role("listitem").filter(has_text="Write a brief")).to_have_count(1)
            expect(page.get_by_role("link", name="Earlier adjustments")).to_have_count(0)
            looked_at(page, "agreement-earlier-adjustments")
            page.get_by_role("link", name="Later adjustments").focus()
            page.keyboard.press("Enter")
            expect(heading).to_have_text(f"Adjustments 6 to {extra + 1} of {extra + 1}")

            # The earlier changes in effect, with their revert forms.
            page.goto(f"{service.base}/agreements/{aid}")
            page.locator("#revert-group summary").click()
            page.get_by_role("link", name="Earlier changes in effect").click()
            expect(heading).to_contain_text("Changes in effect 1 to ")
            expect(page.get_by_role("button", name="Revert").first).to_be_visible()
            looked_at(page, "agreement-earlier-changes")
        finally:
            browser.close()
    assert console.unexpected() == []
