"""An agreement's timeline tells the story, in a real browser: a revised proposal that
changed one description shows one changed row (adjustments compared by identity, not
re-added), a revert says which change it undid and links to it, the newest events come
first on asking and "Jump to the latest" reaches them, and an instant before the
agreement existed says so and leads back to the timeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible
from tests.browser.test_web_team import _looked_at, _signed_in

GOAL = {"targetRole": "Product manager", "skills": ["roadmapping"]}


def _adjustments(third: str) -> list[dict[str, Any]]:
    return [
        {"kind": "TASK", "description": "Write a brief", "hoursPerWeek": 1},
        {"kind": "RELATIONAL", "description": "Pair with a PM", "hoursPerWeek": 1},
        {"kind": "COGNITIVE", "description": third, "hoursPerWeek": 0.5},
        {"kind": "TASK", "description": "Sit in on discovery", "hoursPerWeek": 1},
    ]


def _story(service: Service) -> dict[str, str]:
    """v1 proposed with four adjustments, v2 one description revised, v3 approved, v4 an
    adjustment added, v5 that adjustment reverted."""
    s, ids = service.team("mgr", "emp", names={"mgr": "Priya Raman", "emp": "Sam Tester"})
    ids["s"] = s
    gid = service.gql(
        ids["emp"],
        Role.EMPLOYEE,
        "proposeAgreement",
        "ProposeAgreementInput",
        "agreement { id }",
        title="Toward product",
        careerGoal=GOAL,
        adjustments=_adjustments("Read about roadmaps"),
    )["agreement"]["id"]
    ids["mine"] = str(agreement_uuid(gid))
    service.gql(
        ids["emp"],
        Role.EMPLOYEE,
        "reviseProposal",
        "ReviseProposalInput",
        "agreement { version }",
        agreementId=gid,
        title="Toward product",
        careerGoal=GOAL,
        adjustments=_adjustments("Read about product strategy"),
    )
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "approveAgreement",
        "ApproveAgreementInput",
        "agreement { version }",
        agreementId=gid,
        guardrails={"maxDevelopmentHoursPerWeek": 8, "reviewEveryDays": 14},
    )
    added = service.gql(
        ids["mgr"],
        Role.MANAGER,
        "addAdjustment",
        "AddAdjustmentInput",
        "agreement { adjustments { changeId description } }",
        agreementId=gid,
        adjustment={"kind": "RELATIONAL", "description": "Shadow a PM", "hoursPerWeek": 1},
    )["agreement"]["adjustments"]
    change = next(a["changeId"] for a in added if a["description"] == "Shadow a PM")
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "revertChange",
        "RevertChangeInput",
        "agreement { version }",
        agreementId=gid,
        changeId=change,
        reason="Not this quarter",
    )
    return ids


def test_the_timeline_tells_the_story(chromium: str, service: Service, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _story(service)
    timeline = f"{service.base}/agreements/{ids['mine']}/timeline"
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = _signed_in(browser, console, service.link(f"hr-{ids['s']}", Role.HR))
            page.goto(timeline)

            # The revision changed one description: one row, before and after.
            revised = page.locator("#v2")
            revised.get_by_text("What changed").click()
            rows = revised.locator("table.diff tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("Read about roadmaps")
            expect(rows.first).to_contain_text("Read about product strategy")

            # The revert says what it undid, and links to it.
            reverted = page.locator("#v5")
            expect(reverted.get_by_role("heading")).to_have_text(
                "Version 5: Reverted the adjustment “Shadow a PM”"
            )
            reverted.get_by_role(
                "link", name="the adjustment “Shadow a PM”, recorded at version 4"
            ).click()
            expect(page).to_have_url(f"{timeline}#v4")  # on this page: an anchor
            expect(page.locator("#v4")).to_contain_text("Added an adjustment: Shadow a PM")
            accessible(page)

            # Names, not ids: who acted and the request's id only under "Details".
            first = page.locator("#v1")
            expect(first.locator(".meta")).to_contain_text(f"Sam Tester {ids['s']} as employee")
            shown = first.evaluate(
                "li => [...li.children].filter(c => c.tagName !== 'DETAILS')"
                ".map(c => c.innerText).join(' ')"
            )
            assert ids["emp"] not in shown and "request" not in shown, shown
            first.get_by_text("Details").click()
            expect(first.locator("details").last).to_contain_text(f"Recorded by {ids['emp']}")

            # Newest first, on asking; oldest first stays the default.
            page.goto(timeline)
            page.get_by_role("link", name="Newest first").click()
            # A click starts the navigation; evaluate_all does not wait for it (an empty
            # list once, read while the new page loaded): wait for the reordered page.
            expect(page.locator("ol.timeline > li").first).to_have_id("v5")
            versions = page.locator("ol.timeline > li").evaluate_all("ls => ls.map(l => l.id)")
            assert versions == ["v5", "v4", "v3", "v2", "v1"], versions
            _looked_at(page, tmp_path, "timeline-newest")
            page.get_by_role("link", name="Oldest first").click()
            expect(page.locator("ol.timeline > li").first).to_have_id("v1")
            page.get_by_role("link", name="Jump to the latest").click()
            expect(page.locator("#v5")).to_be_in_viewport()

            # Before the agreement existed: said so, and the way back.
            page.goto(timeline)
            page.get_by_label("At an instant (UTC)").fill("2001-01-01T09:00:00")
            page.get_by_role("button", name="Show").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Before “Toward product” existed"
            )
            expect(page.locator("main")).to_contain_text("had not been proposed yet")
            expect(page.locator("main")).not_to_contain_text("did not work")
            _looked_at(page, tmp_path, "timeline-before")
            page.get_by_role("link", name="Back to the timeline").click()
            expect(page).to_have_url(timeline)
        finally:
            browser.close()
    assert console.unexpected() == []
