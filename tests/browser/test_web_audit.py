"""The auditors' and HR's pages in a real browser against a real `crafting serve`, on
SQLite and PostgreSQL: an auditor reads everyone's agreements, the integrity badge
(loaded by htmx), the timeline with what each version changed, follows a revert to the
change it reverted, travels back in time, downloads the export and searches the audit
log; HR opens the directory and everyone's agreements — axe on every page."""

from __future__ import annotations

import json
from pathlib import Path

from api.web.sessions import mint_link
from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import accessible
from tests.browser.test_web_journey import _scene


def test_an_auditor_and_hr_read_history_integrity_and_the_organisation(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    ids = _scene(service)
    added = service.gql(
        ids["mgr"],
        Role.MANAGER,
        "addAdjustment",
        "AddAdjustmentInput",
        "agreement { adjustments { changeId description } }",
        agreementId=ids["mine"],
        adjustment={"kind": "RELATIONAL", "description": "Shadow a PM", "hoursPerWeek": 1},
    )["agreement"]["adjustments"]
    change = next(a["changeId"] for a in added if a["description"] == "Shadow a PM")
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "revertChange",
        "RevertChangeInput",
        "agreement { version }",
        agreementId=ids["mine"],
        changeId=change,
        reason="Team crunch",
    )
    problems: list[str] = []
    failed: list[str] = []  # responses of 400 and above

    def signed_in(page: Page, sub: str, role: Role) -> None:
        page.goto(f"{service.base}/login/{mint_link(service.secret, sub, [role])}")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_context(accept_downloads=True).new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            signed_in(page, "auditor-1", Role.AUDITOR)
            page.get_by_role("link", name="All agreements").click()
            expect(page.get_by_role("heading", name="All agreements")).to_be_visible()
            accessible(page)
            page.get_by_role("link", name="Tester to product manager").click()
            # The badge arrives through htmx once the page has loaded.
            expect(page.get_by_text("4 in this agreement's history.")).to_be_visible()
            accessible(page)

            with page.expect_download() as download:
                page.get_by_role("link", name="Download the verifiable export").click()
            saved = tmp_path / "export.jsonl"
            download.value.save_as(saved)
            lines = [json.loads(line) for line in saved.read_text().splitlines()]
            assert lines[0]["kind"] == "header" and lines[0]["scope"] == "partial"
            assert [e["version"] for e in lines if e["kind"] == "event"] == [1, 2, 3, 4]

            page.get_by_role("link", name="Timeline: every change").click()
            expect(
                page.get_by_role("heading", name="Version 4: Reverted the adjustment “Shadow a PM”")
            ).to_be_visible()
            expect(page.get_by_text("Reason: Team crunch")).to_be_visible()
            accessible(page)
            # What version 3 changed, loaded into the disclosure by htmx.
            page.locator("#v3 summary", has_text="What changed").click()
            expect(page.locator("#v3 table")).to_contain_text("Shadow a PM")
            accessible(page)
            page.get_by_role(
                "link", name="the adjustment “Shadow a PM”, recorded at version 3"
            ).click()
            assert page.url.endswith("#v3")
            expect(page.locator("#v3")).to_be_in_viewport()

            page.get_by_role("link", name="As it was at version 1", exact=True).click()
            expect(page.get_by_text("As it was at version 1")).to_be_visible()
            expect(page.get_by_text("proposed", exact=True)).to_be_visible()
            accessible(page)
            page.get_by_role("link", name="See it as it is now").click()
            expect(page.get_by_role("heading", name="Tester to product manager")).to_be_visible()

            page.get_by_role("link", name="Audit log").click()
            expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
            page.get_by_label("Event type").select_option("ChangeReverted")
            page.get_by_role("button", name="Search").click()
            expect(page.get_by_role("link", name="Reverted a change").first).to_be_visible()
            expect(page.get_by_text("Added an adjustment")).to_have_count(0)
            accessible(page)

            hr = browser.new_context().new_page()
            hr.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            hr.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            signed_in(hr, ids["hr"], Role.HR)
            hr.get_by_role("link", name="People").click()
            expect(hr.get_by_role("heading", name="People")).to_be_visible()
            accessible(hr)
            hr.get_by_label("Name or id").fill(ids["emp"])
            hr.get_by_role("button", name="Search").click()
            expect(hr.get_by_role("link", name=ids["emp"].title())).to_be_visible()
            expect(hr.get_by_text(ids["other"].title())).to_have_count(0)
            hr.get_by_role("link", name=ids["emp"].title()).click()  # their page: holds, erasure
            hr.get_by_role("link", name="Their agreements").click()
            expect(hr.get_by_role("link", name="Tester to product manager")).to_be_visible()
            expect(hr.get_by_text("Someone else's plan")).to_have_count(0)
            accessible(hr)
            hr.get_by_label("Status").select_option("PROPOSED")
            hr.get_by_label("Employee (name or person id)").fill("")
            hr.get_by_role("button", name="Filter").click()
            expect(hr.get_by_role("link", name="Someone else's plan")).to_be_visible()
            accessible(hr)
        finally:
            browser.close()
    # Browsers ask for /favicon.ico on their own; nothing else may fail.
    assert [u for u in failed if not u.endswith("/favicon.ico")] == []
    responded = "Failed to load resource: the server responded with a status of 404"
    assert [p for p in problems if not p.startswith(responded)] == []
