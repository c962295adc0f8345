"""The next step in view, in a real browser: each role lands where its work is, the
navigation counts what awaits, empty pages say what to do, a proposal says who decides,
and a proposal sent back shows the manager's reason."""

from __future__ import annotations

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible, open_action
from tests.browser.test_web_manager import _scene


def test_each_role_lands_where_its_work_is_with_counts(chromium: str, service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _scene(service)
    s = ids["s"]
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context().new_page())
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
            # One proposal awaits, one review is due within two weeks: 2 in the nav.
            expect(page.locator("#awaiting ~ .table-wrap tbody tr")).to_have_count(1)
            expect(page.locator("#reviews-due ~ .table-wrap tbody tr")).to_have_count(1)
            nav = page.get_by_role("navigation", name="Main")
            expect(nav.get_by_role("link", name="Inbox 2 waiting")).to_have_attribute(
                "aria-current", "page"
            )
            accessible(page)

            for role in (Role.HR, Role.AUDITOR):
                other = console.watch(browser.new_context().new_page())
                other.goto(service.link(f"{role.value.lower()}-{s}", role))
                other.get_by_role("button", name="Sign in").click()
                expect(other.get_by_role("heading", name="All agreements")).to_be_visible()

            # Someone new: nothing yet, and what to do about it.
            fresh = console.watch(browser.new_context().new_page())
            fresh.goto(service.link(ids["peer"] + "-new"))
            fresh.get_by_role("button", name="Sign in").click()
            expect(fresh.get_by_text("You have no agreements yet.")).to_be_visible()
            expect(fresh.get_by_role("link", name="Start a proposal")).to_be_visible()
        finally:
            browser.close()
    assert console.unexpected() == []


def test_a_proposal_says_who_decides_and_a_request_for_changes_why(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    names = {"mgr": "Priya Raman", "emp": "Sam Tester"}
    s, ids = service.team(*names, names=names)
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context().new_page())
            page.goto(service.link(ids["emp"]))
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Propose").click()
            page.get_by_label("Title").fill("Tester to product owner")
            page.get_by_label("Target role").fill("Product owner")
            row = page.get_by_role("group", name="Adjustment 1")
            row.get_by_label("Description").fill("Write acceptance criteria")
            row.get_by_label("Hours per week").fill("2")
            page.get_by_role("button", name="Propose", exact=True).click()
            expect(page.get_by_role("status")).to_have_text(
                f"Your change is recorded. Sent to Priya Raman {s} for approval."
            )
            agreement = page.url.split("?")[0]

            manager = console.watch(browser.new_context().new_page())
            manager.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            manager.get_by_role("button", name="Sign in").click()
            manager.goto(agreement)
            form = open_action(manager, "form[action$='/request-changes']")
            form.get_by_label("Reason (required)").fill("Name the product you would own.")
            form.get_by_role("button", name="Request changes").click()
            expect(manager.get_by_role("status")).to_have_text("Your change is recorded.")

            page.goto(agreement)
            asked = page.get_by_role("region", name=f"Priya Raman {s} asked for changes")
            expect(asked).to_contain_text("Name the product you would own.")
            expect(page.get_by_role("link", name="Revise the proposal")).to_be_visible()
            accessible(page)
        finally:
            browser.close()
    assert console.unexpected() == []
