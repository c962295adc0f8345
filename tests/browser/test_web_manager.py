"""The manager's pages in a real browser against a real `crafting serve`, on SQLite
and PostgreSQL: the inbox, approving with guardrails, reallocating (one refused by the
fairness limit, told live before submitting), reverting, previewing and confirming a
revert to a version, a review, the team chart — axe on every page — and the approve
and revert journey again by keyboard alone."""

from __future__ import annotations

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import RESPONDED, accessible, confirm, open_action


def _scene(service: Service) -> dict[str, str]:
    """A manager, an employee with a proposal and a teammate already receiving 3 of the
    4 hours a person may receive (from another agreement)."""
    names = {"mgr": "Morgan Manager", "emp": "Erin Tester", "mate": "Alex Mate", "peer": "Pat Peer"}
    s, ids = service.team(*names, names=names)
    ids["hr"] = f"hr-{s}"

    def propose(employee: str, title: str) -> str:
        agreement = service.gql(
            employee,
            Role.EMPLOYEE,
            "proposeAgreement",
            "ProposeAgreementInput",
            "agreement { id }",
            title=title,
            careerGoal={"targetRole": "Product manager", "skills": ["roadmapping"]},
            adjustments=[{"kind": "TASK", "description": "Write a brief", "hoursPerWeek": 1}],
        )["agreement"]
        return str(agreement_uuid(agreement["id"]))

    ids["mine"] = propose(ids["emp"], f"Tester to product manager {s}")
    peer = propose(ids["peer"], f"Peer's plan {s}")
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "approveAgreement",
        "ApproveAgreementInput",
        "agreement { version }",
        agreementId=peer,
        guardrails={"maxDevelopmentHoursPerWeek": 4, "reviewEveryDays": 14},
    )
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "reallocateTask",
        "ReallocateTaskInput",
        "agreement { version }",
        agreementId=peer,
        task="Release notes",
        hoursPerWeek=3,
        toPersonId=ids["mate"],
        reason="Time for the plan",
    )
    ids["s"] = s
    return ids


def test_a_manager_works_through_the_inbox_and_an_agreement(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _scene(service)
    s = ids["s"]
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_context().new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Inbox").click()
            expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
            awaiting = page.locator("section", has=page.locator("#awaiting"))
            expect(awaiting.get_by_text(f"Erin Tester {s}")).to_be_visible()
            expect(page.get_by_role("cell", name="Task reallocated")).to_be_visible()
            accessible(page)

            awaiting.get_by_role("link", name=f"Tester to product manager {s}").click()
            expect(page.get_by_role("heading", name="Approve with guardrails")).to_be_visible()
            accessible(page)
            page.get_by_label("Most development hours per week").fill("4")
            page.get_by_label("Review every (days)").fill("14")
            page.get_by_label("Protected responsibilities (comma-separated)").fill(
                "Release sign-off"
            )
            page.get_by_role("button", name="Approve").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_text("active", exact=True)).to_be_visible()

            # A reallocation within the limit, checked live, then one over it.
            form = open_action(page, "form[action$='/reallocate']")
            form.get_by_label("Task").fill("Bug triage")
            form.get_by_label("Receiver").select_option(label=f"Alex Mate {s}")
            form.get_by_label("Hours per week").fill("2")
            check = page.locator("#reallocate-check")
            expect(check).to_contain_text(
                f"Alex Mate {s} receives 3 of 4 h/week allowed; this would make 5 — over the limit."
            )
            form.get_by_label("Hours per week").fill("1")
            expect(check).to_contain_text("this would make 4 — within the limit")
            form.get_by_label("Hours per week").fill("2")
            expect(check).to_contain_text("over the limit")
            accessible(page)
            form.get_by_label("Reason (required)").fill("Room for briefs")
            form.get_by_role("button", name="Reallocate").click()
            expect(page.locator("#reallocate-toPersonId-error")).to_have_text(
                f"Alex Mate {s} can take 1 h more a week."
            )
            expect(
                open_action(page, "form[action$='/reallocate']").get_by_label("Receiver")
            ).to_have_attribute("aria-invalid", "true")
            accessible(page)
            form = open_action(page, "form[action$='/reallocate']")
            form.get_by_label("Hours per week").fill("1")
            expect(check).to_contain_text("within the limit")
            form.get_by_role("button", name="Reallocate").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")

            # Revert it, with a reason (without one, the error sits by the field).
            open_action(page, "ul.changes")
            item = page.locator("ul.changes li", has_text="Reallocation of “Bug triage”")
            item.get_by_role("button", name="Revert").click()
            confirm(page)
            open_action(page, "ul.changes")
            item = page.locator("ul.changes li", has_text="Reallocation of “Bug triage”")
            expect(item.locator(".field-error")).to_have_text(
                "A reason is required for this action."
            )
            accessible(page)
            item.get_by_label("Reason for reverting (required)").fill("Alex is on call")
            item.get_by_role("button", name="Revert").click()
            confirm(page)
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            open_action(page, "ul.changes")
            expect(page.get_by_text("Revert of Reallocation of “Bug triage”")).to_be_visible()

            # An adjustment, then a revert to the version of the approval, previewed.
            adjust = open_action(page, "form[action$='/adjust']")
            adjust.get_by_label("Description").fill("Shadow a product manager")
            adjust.get_by_label("Hours per week").fill("1")
            adjust.get_by_role("button", name="Add adjustment").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            open_action(page, "#revert-to-version")
            page.get_by_label("Version", exact=True).fill("2")
            page.get_by_role("button", name="Preview the revert").click()
            expect(page.get_by_role("heading", name="This would revert 1 change")).to_be_visible()
            expect(page.get_by_text("Adjustment “Shadow a product manager”")).to_be_visible()
            accessible(page)
            page.get_by_label("Reason (required)").fill("Back to the agreed plan")
            page.get_by_role("button", name="Confirm the revert").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(
                page.get_by_text("Shadow a product manager — task, 1.0 h/week (reverted)")
            ).to_be_visible()

            review = open_action(page, "form[action$='/review']")
            review.get_by_label("Outcome").select_option(label="At risk")
            review.get_by_label("Notes (optional)").fill("Slow start")
            review.get_by_role("button", name="Record review").click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_role("row", name="Slow start")).to_contain_text("at risk")
            accessible(page)

            page.get_by_role("link", name="Team workload").click()
            expect(
                page.get_by_role("img", name=f"Hours per week of each member of team-{s}")
            ).to_be_visible()
            expect(page.get_by_role("row", name=f"Alex Mate {s}")).to_contain_text("3")
            accessible(page)
        finally:
            browser.close()
    assert [p for p in problems if not p.startswith(RESPONDED)] == []


def test_the_manager_approves_and_reverts_by_keyboard_alone(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    ids = _scene(service)
    s = ids["s"]

    def tab_to(page: Page, found: str, limit: int = 120) -> None:
        """Press Tab until the focused element matches the JS predicate `found`."""
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(e => {found})(document.activeElement)"):
                return
        raise AssertionError(f"never focused: {found}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_context().new_page()
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            tab_to(page, "e.tagName === 'BUTTON' && e.textContent.trim() === 'Sign in'")
            page.keyboard.press("Enter")
            # A manager lands on the inbox.
            expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
            tab_to(page, f"e.textContent === 'Tester to product manager {s}'")
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Approve with guardrails")).to_be_visible()
            tab_to(page, "e.id === 'approve-guardrails-maxDevelopmentHoursPerWeek'")
            page.keyboard.type("4")
            page.keyboard.press("Tab")  # review every: 14 days is filled in
            page.keyboard.press("Tab")
            page.keyboard.type("Release sign-off")
            tab_to(page, "e.textContent.trim() === 'Approve'")
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_text("active", exact=True)).to_be_visible()
            accessible(page)

            # Revert the proposed adjustment: its reason field, then its button.
            reason = (
                page.locator("ul.changes li", has_text="Adjustment “Write a brief”")
                .get_by_label("Reason for reverting (required)")
                .get_attribute("id")
            )
            # The reverts' group opens from its summary, by keyboard too.
            tab_to(page, "e.tagName === 'SUMMARY' && e.textContent.startsWith('Revert')")
            page.keyboard.press("Enter")
            tab_to(page, f"e.id === '{reason}'")
            page.keyboard.type("Not needed after all")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent.trim()") == "Revert"
            page.keyboard.press("Enter")
            # Asked first, by keyboard: the dialog opens on Cancel; Shift+Tab to Revert.
            expect(page.locator("#confirm-dialog")).to_be_visible()
            page.keyboard.press("Shift+Tab")
            page.keyboard.press("Enter")
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_text("Write a brief — task, 1.0 h/week (reverted)")).to_be_visible()
        finally:
            browser.close()
