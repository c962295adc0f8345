"""The web app's story across roles, in real browsers (Playwright driving Debian's chromium)
against a real `crafting serve`, on SQLite and PostgreSQL. Each person signs in with
their own link in their own browser and works through the pages: the employee proposes;
the manager approves with guardrails, reallocates a task, is refused a second one by
the receiver's fairness limit, reverts the first and records a review; the auditor
sees the revert linked to the change it undid in the timeline, travels back to the
approval and downloads the export, which the standalone verifier accepts with the
public key the page shows. axe checks every page, and no page breaks the CSP."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from domain.values import Role
from infra.settings import Settings
from infra.signing import new_private_key, public_key_b64, signing_key
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible, confirm, open_action
from tests.conftest import database_url  # noqa: F401  (the journeys run on both stores)

VERIFIER = Path(__file__).parents[2] / "domain" / "integrity.py"  # runs on its own
KEY = new_private_key()
PUBLIC_KEY = public_key_b64(signing_key(Settings(signing_key=KEY)))


@pytest.fixture
def service_variables() -> dict[str, str]:
    # A signing key of its own (on PostgreSQL there is no key file beside the
    # database), and a checkpoint signed every second so the export's events are
    # covered by a signature while the auditor waits.
    return {"CRAFTING_SIGNING_KEY": KEY, "CRAFTING_CHECKPOINT_SECONDS": "1"}


def _people(service: Service) -> dict[str, str]:
    names = {"mgr": "Priya Raman", "emp": "Sam Tester", "mate": "Lena Okafor"}
    s, ids = service.team(*names, names=names, team="qa")
    ids["hr"] = f"hr-{s}"
    return {**ids, "s": s}


def test_propose_approve_reallocate_refused_revert_review_then_audit_and_verify(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    ids = _people(service)
    s = ids["s"]
    title = f"Tester to product manager {s}"
    console = Console()
    recorded = "Your change is recorded."

    shown = {ids[k]: f"{n} {s}" for k, n in (("emp", "Sam Tester"), ("mgr", "Priya Raman"))}

    def signed_in(browser: Any, sub: str, *roles: Role) -> Page:
        """A browser of their own, signed in with their own link (which names them; the
        auditor, not in the directory, by role)."""
        page: Page = console.watch(browser.new_context(accept_downloads=True).new_page())
        page.goto(service.link(sub, *roles))
        who = shown.get(sub, "an auditor")
        expect(page.get_by_role("heading", name=f"Sign in as {who}?")).to_be_visible()
        accessible(page)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        accessible(page)
        return page

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            # The employee proposes.
            emp = signed_in(browser, ids["emp"], Role.EMPLOYEE)
            emp.get_by_role("link", name="Propose").click()
            expect(emp.get_by_role("heading", name="Propose an agreement")).to_be_visible()
            accessible(emp)
            emp.get_by_label("Title").fill(title)
            emp.get_by_label("Target role").fill("Product manager")
            emp.get_by_label("Skills to build").fill("customer research, product writing")
            first = emp.get_by_role("group", name="Adjustment 1")
            first.get_by_label("Kind").select_option("TASK")
            first.get_by_label("Description").fill("Write one feature brief")
            first.get_by_label("Hours per week").fill("1")
            emp.get_by_role("button", name="Propose", exact=True).click()
            expect(emp.get_by_role("status")).to_contain_text(f"{recorded} Sent to Priya Raman")
            expect(emp.get_by_role("heading", name=title)).to_be_visible()
            expect(emp.get_by_text("proposed", exact=True)).to_be_visible()
            accessible(emp)
            agreement = emp.url.split("?")[0]

            # The manager finds it in the inbox and approves it with guardrails.
            mgr = signed_in(browser, ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
            mgr.get_by_role("link", name="Inbox").click()
            expect(mgr.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
            awaiting = mgr.locator("section", has=mgr.locator("#awaiting"))
            expect(awaiting.get_by_text(f"Sam Tester {s}")).to_be_visible()
            accessible(mgr)
            awaiting.get_by_role("link", name=title).click()
            expect(mgr.get_by_role("heading", name="Approve with guardrails")).to_be_visible()
            expect(mgr.get_by_text("Write one feature brief")).to_be_visible()
            accessible(mgr)
            mgr.get_by_label("Most development hours per week").fill("4")
            mgr.get_by_label("Review every (days)").fill("14")
            mgr.get_by_label("Protected responsibilities (comma-separated)").fill(
                "Release sign-off"
            )
            mgr.get_by_role("button", name="Approve").click()
            expect(mgr.get_by_role("status")).to_have_text(recorded)
            expect(mgr.get_by_text("active", exact=True)).to_be_visible()
            accessible(mgr)

            # Reallocates a chore to a teammate: within the receiving limit.
            form = open_action(mgr, "form[action$='/reallocate']")
            form.get_by_label("Task").fill("Regression triage")
            form.get_by_label("Receiver").select_option(label=f"Lena Okafor {s}")
            form.get_by_label("Hours per week").fill("2")
            check = mgr.locator("#reallocate-check")
            expect(check).to_contain_text("this would make 2 — within the limit")
            form.get_by_label("Reason (required)").fill("Frees two hours of customer research")
            form.get_by_role("button", name="Reallocate").click()
            expect(mgr.get_by_role("status")).to_have_text(recorded)
            open_action(mgr, "ul.changes")
            expect(mgr.get_by_text("Reallocation of “Regression triage”")).to_be_visible()

            # A second one would take the teammate over the limit: told while typing,
            # refused on submit with the message by the receiver, nothing recorded.
            form = open_action(mgr, "form[action$='/reallocate']")
            form.get_by_label("Task").fill("Ticket grooming")
            form.get_by_label("Receiver").select_option(label=f"Lena Okafor {s}")
            form.get_by_label("Hours per week").fill("3")
            expect(check).to_contain_text(
                f"Lena Okafor {s} receives 2 of 4 h/week allowed; this would make 5 — over the limit."
            )
            form.get_by_label("Reason (required)").fill("More room for briefs")
            form.get_by_role("button", name="Reallocate").click()
            expect(mgr.locator("#reallocate-toPersonId-error")).to_have_text(
                f"Lena Okafor {s} can take 2 h more a week."
            )
            receiver = open_action(mgr, "form[action$='/reallocate']").get_by_label("Receiver")
            expect(receiver).to_have_attribute("aria-invalid", "true")
            accessible(mgr)
            mgr.goto(agreement)
            expect(mgr.get_by_text("Ticket grooming")).to_have_count(0)

            # Reverts the first reallocation, with a reason.
            open_action(mgr, "ul.changes")
            item = mgr.locator("ul.changes li", has_text="Reallocation of “Regression triage”")
            item.get_by_label("Reason for reverting (required)").fill("Lena is on call")
            item.get_by_role("button", name="Revert").click()
            confirm(mgr)
            expect(mgr.get_by_role("status")).to_have_text(recorded)
            open_action(mgr, "ul.changes")
            expect(mgr.get_by_text("Revert of Reallocation of “Regression triage”")).to_be_visible()
            accessible(mgr)

            # Reviews it.
            review = open_action(mgr, "form[action$='/review']")
            review.get_by_label("Outcome").select_option(label="On track")
            review.get_by_label("Notes (optional)").fill("The first brief is in review")
            review.get_by_role("button", name="Record review").click()
            expect(mgr.get_by_role("status")).to_have_text(recorded)
            expect(mgr.get_by_role("row", name="The first brief is in review")).to_contain_text(
                "on track"
            )
            accessible(mgr)

            # The employee sees their agreement approved and reviewed.
            emp.goto(agreement)
            expect(emp.get_by_text("active", exact=True)).to_be_visible()
            expect(emp.get_by_role("row", name="The first brief is in review")).to_contain_text(
                "on track The first brief is in review"
            )
            accessible(emp)

            # The auditor: the agreement among everyone's, its integrity, its timeline.
            aud = signed_in(browser, f"auditor-{s}", Role.AUDITOR)
            aud.get_by_role("link", name="All agreements").click()
            expect(aud.get_by_role("heading", name="All agreements")).to_be_visible()
            accessible(aud)
            aud.get_by_role("link", name=title).click()
            expect(aud.get_by_text("5 in this agreement's history.")).to_be_visible()
            for _ in range(30):  # sealed every second
                if aud.get_by_text("Integrity: verified").count():
                    break
                aud.wait_for_timeout(500)
                aud.reload()
            expect(aud.get_by_text("Integrity: verified")).to_be_visible()
            accessible(aud)
            shown_key = aud.locator(".badge dt:text('Public key') + dd code").inner_text()
            assert shown_key == PUBLIC_KEY

            aud.get_by_role("link", name="Timeline: every change").click()
            # People by name (the teammate too, not her id); a revert says which change it
            # undid (by identity, not "a change").
            moved = re.compile(r"Version 3: Reallocated .* to Lena Okafor")
            expect(aud.get_by_role("heading", name=moved)).to_be_visible()
            undid = "Version 4: Reverted the reallocation of “Regression triage”"
            expect(aud.get_by_role("heading", name=undid)).to_be_visible()
            expect(aud.get_by_text("Reason: Lena is on call")).to_be_visible()
            accessible(aud)
            aud.get_by_role("link", name="recorded at version 3").click()
            assert aud.url.endswith("#v3")
            expect(aud.locator("#v3")).to_be_in_viewport()
            aud.locator("#v3 summary", has_text="What changed").click()
            expect(aud.locator("#v3 table")).to_contain_text("Regression triage")
            accessible(aud)

            # Back to the approval.
            aud.get_by_role("link", name="As it was at version 2", exact=True).click()
            expect(aud.get_by_text("As it was at version 2")).to_be_visible()
            expect(aud.get_by_text("active", exact=True)).to_be_visible()
            expect(aud.get_by_text("Regression triage")).to_have_count(0)
            accessible(aud)
            aud.get_by_role("link", name="See it as it is now").click()
            expect(aud.get_by_role("heading", name=title)).to_be_visible()

            with aud.expect_download() as download:
                aud.get_by_role("link", name="Download the verifiable export").click()
            saved = tmp_path / "export.jsonl"
            download.value.save_as(saved)
        finally:
            browser.close()
    checked = subprocess.run(
        [sys.executable, str(VERIFIER), str(saved), "--public-key", shown_key],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("OK: 5 events"), checked.stdout
    assert "0 checkpoints" not in checked.stdout, checked.stdout
    assert console.unexpected() == []
