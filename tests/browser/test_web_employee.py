"""The employee's pages in a real browser (Playwright driving Debian's chromium) against
a real `crafting serve`: propose with two adjustments of different kinds (the second
row added by htmx), revise after the manager asked for changes, record an artifact,
read the career evidence — axe finds no serious or critical problem on any page, and
the browser reports no CSP violation."""

from __future__ import annotations

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import accessible


def test_an_employee_proposes_revises_records_an_artifact_and_reads_their_evidence(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    ids = service.team("mgr", "emp")[1]
    emp, mgr = ids["emp"], ids["mgr"]
    problems: list[str] = []

    def as_manager(name: str, kind: str, **input: object) -> None:
        service.gql(mgr, Role.MANAGER, name, kind, "agreement { version }", **input)

    def reload_until(page: Page, text: str) -> None:
        """The manager's change reaches the read models shortly after the answer."""
        for _ in range(50):
            page.reload()
            if page.get_by_text(text, exact=True).count():
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"never shown: {text}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_context().new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(service.link(emp))
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="My agreements")).to_be_visible()

            # Propose: the second adjustment row comes from htmx, focused.
            page.get_by_role("link", name="Propose").click()
            expect(page.get_by_role("heading", name="Propose an agreement")).to_be_visible()
            accessible(page)
            page.get_by_label("Title").fill("Tester to product owner")
            page.get_by_label("Target role").fill("Product owner")
            page.get_by_label("Skills to build").fill("backlog refinement, interviewing")
            first = page.get_by_role("group", name="Adjustment 1")
            first.get_by_label("Kind").select_option("TASK")
            first.get_by_label("Description").fill("Write acceptance criteria")
            first.get_by_label("Hours per week").fill("2")
            page.get_by_role("button", name="Add another adjustment").click()
            second = page.get_by_role("group", name="Adjustment 2")
            expect(second.get_by_label("Kind")).to_be_focused()
            assert page.url.endswith("/agreements/new")  # no page load: htmx
            second.get_by_label("Kind").select_option("RELATIONAL")
            second.get_by_label("Description").fill("Sit in on customer calls")
            second.get_by_label("Hours per week").fill("1.5")
            accessible(page)
            page.get_by_role("button", name="Propose", exact=True).click()
            expect(page.get_by_role("status")).to_contain_text("Your change is recorded. Sent to")
            expect(page.get_by_role("heading", name="Tester to product owner")).to_be_visible()
            expect(page.get_by_text("Sit in on customer calls")).to_be_visible()
            accessible(page)
            aid = page.url.split("/agreements/")[1].split("?")[0]

            # The manager asks for changes; the employee revises.
            as_manager(
                "requestChanges",
                "AgreementCommandInput",
                agreementId=aid,
                reason="Name the customers you will call",
            )
            reload_until(page, "changes requested")
            page.get_by_role("link", name="Revise the proposal").click()
            expect(
                page.get_by_role("heading", name="Your manager asked for changes")
            ).to_be_visible()
            expect(page.get_by_text("Name the customers you will call")).to_be_visible()
            expect(page.get_by_label("Title")).to_have_value("Tester to product owner")
            accessible(page)
            # A field the rules refuse: the message by it, the rest kept.
            second = page.get_by_role("group", name="Adjustment 2")
            second.get_by_label("Hours per week").fill("90")
            page.get_by_role("button", name="Save the revision").click()
            hours = page.get_by_role("group", name="Adjustment 2").get_by_label("Hours per week")
            expect(hours).to_have_attribute("aria-invalid", "true")
            expect(page.locator("#f-adjustments-1-hoursPerWeek-error")).to_contain_text(
                "at most 40"
            )
            accessible(page)
            hours.fill("1.5")
            page.get_by_role("group", name="Adjustment 2").get_by_label("Description").fill(
                "Sit in on calls with Acme and Globex"
            )
            page.get_by_role("button", name="Save the revision").click()
            expect(page.get_by_role("status")).to_contain_text("Your change is recorded.")
            expect(page.get_by_text("Sit in on calls with Acme and Globex")).to_be_visible()

            # Approved: the employee records an artifact.
            as_manager(
                "approveAgreement",
                "ApproveAgreementInput",
                agreementId=aid,
                guardrails={"maxDevelopmentHoursPerWeek": 6, "reviewEveryDays": 14},
            )
            reload_until(page, "active")
            form = page.get_by_role("form", name="Record an artifact")
            form.get_by_label("Artifact title").fill("Acceptance criteria for export")
            form.get_by_label("Kind").select_option("DOCUMENTATION")
            form.get_by_label("Link (optional)").fill("https://wiki.example.com/export")
            form.get_by_label("Skills it shows").fill("backlog refinement")
            form.get_by_role("button", name="Record the artifact").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_role("link", name="Acceptance criteria for export")).to_be_visible()
            accessible(page)

            # The career evidence: the skill, with its chart and table.
            page.get_by_role("link", name="Career evidence").click()
            expect(page.get_by_role("heading", name="My career evidence")).to_be_visible()
            expect(page.get_by_role("img", name="Artifacts per skill")).to_be_visible()
            expect(page.get_by_role("row", name="backlog refinement 1", exact=True)).to_be_visible()
            accessible(page)
        finally:
            browser.close()
    # Browsers report CSP violations ("Refused to …") as console errors; the 422 above
    # was on purpose.
    responded = "Failed to load resource: the server responded with a status of 4"
    assert [p for p in problems if not p.startswith(responded)] == []
