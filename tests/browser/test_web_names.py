"""Names where people's words belong, in a real browser: a sign-in link names the person
(roles in words), the header says who is signed in by name (someone outside the
directory by role), the audit log tells event types in words with the request id only
in the details, reallocations between people by name, and the filters find people by
their names — which are sealed at rest, so through the name index (tests/e2e/
test_name_search.py checks that erasure empties it)."""

from __future__ import annotations

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.looks import looked_at
from tests.browser.pages import Console
from tests.browser.test_web_confirm import _approved


def test_people_see_names_and_find_people_by_name(chromium: str, service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _approved(service)  # Erin Tester's plan, approved by Morgan Manager
    s = ids["s"]
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "reallocateTask",
        "ReallocateTaskInput",
        "agreement { version }",
        agreementId=ids["mine"],
        task="Sprint demo prep",
        hoursPerWeek=1,
        toPersonId=ids["peer"],
        reason="Room for the plan",
    )
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context().new_page())
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            expect(page.get_by_role("heading", level=1)).to_have_text(
                f"Sign in as Morgan Manager {s}?"
            )
            expect(page.locator("main")).to_contain_text("Roles: Employee and Manager.")
            expect(page.get_by_text(ids["mgr"])).not_to_be_visible()  # only in the details
            looked_at(page, "names-sign-in")
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator(".who")).to_have_text(f"Signed in as Morgan Manager {s}")

            auditor = console.watch(browser.new_context().new_page())
            auditor.goto(service.link(f"auditor-{s}", Role.AUDITOR))
            expect(auditor.get_by_role("heading", level=1)).to_have_text("Sign in as an auditor?")
            auditor.get_by_role("button", name="Sign in").click()
            expect(auditor.locator(".who")).to_have_text("Signed in as an auditor")

            # The audit log: whoever did it found by name, in any case.
            auditor.goto(f"{service.base}/audit")
            auditor.get_by_label("Who did it (name or person id)").fill(f"morgan MANAGER {s}")
            auditor.get_by_role("button", name="Search").click()
            rows = auditor.locator("tbody tr")
            expect(rows.first).to_be_visible()
            assert rows.count() >= 3  # the peer's approval and reallocation, this approval
            for actor in rows.locator("td:nth-child(3)").all_inner_texts():
                assert actor.startswith(f"Morgan Manager {s}"), actor
            moved = rows.filter(has_text="Reallocated “Sprint demo prep”")
            expect(moved).to_contain_text(f"from Erin Tester {s} to Pat Peer {s}")
            shown = auditor.locator("table").inner_text()  # what is on screen
            assert "TaskReallocated" not in shown and ids["mgr"] not in shown
            # The request id and the code name only in the details, on request.
            details = moved.get_by_role("group")
            expect(details.locator("code").first).not_to_be_visible()
            details.locator("summary").click()
            expect(details).to_contain_text("Work reallocated (TaskReallocated)")
            expect(details).to_contain_text("Request id")
            # Event types to pick are in words.
            options = auditor.get_by_label("Event type").locator("option").all_inner_texts()
            assert "Proposal revised" in options and "ProposalRevised" not in options
            looked_at(auditor, "names-audit-log")
            auditor.get_by_label("Who did it (name or person id)").fill(f"Nobody Known {s}")
            auditor.get_by_role("button", name="Search").click()
            expect(auditor.get_by_text("No events match.")).to_be_visible()

            # Everyone's agreements: the employee found by name.
            auditor.goto(f"{service.base}/agreements")
            auditor.get_by_label("Employee (name or person id)").fill(f"Erin Tester {s}")
            auditor.get_by_role("button", name="Filter").click()
            listed = auditor.locator("tbody tr")
            expect(listed).to_have_count(1)
            expect(listed).to_contain_text(f"Tester to product manager {s}")
            looked_at(auditor, "names-all-agreements")
        finally:
            browser.close()
    assert console.unexpected() == []
