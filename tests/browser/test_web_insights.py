"""The insights page in a real browser: HR sees the released tables, each chart with its
table, withheld rows said in words, the monthly tables' team chosen in a form; a
manager only their team; axe finds nothing
serious, and nothing scrolls sideways at 320, 390 or 1280 px (screenshots kept)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.auth import mint_token
from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible

WIDTHS = (320, 390, 1280)
# Agreements of people who do not craft now, ended with an outcome.
OUTCOMES = {
    ("quality", 3): "PROMOTED_IN_PLACE",
    ("quality", 4): "MOVED_TO_TARGET_ROLE",
    ("quality", 5): "STOPPED",
    ("platform", 2): "PROMOTED_IN_PLACE",
    ("platform", 3): "STOPPED",
}


@pytest.fixture
def service_variables() -> dict[str, str]:
    return {"CRAFTING_INSIGHTS_MIN_GROUP": "2"}


def _active(service: Service, employee: str, manager: str, role: str) -> tuple[int, str]:
    """Propose and approve an agreement; the approval's log position, and its id."""
    proposed = service.gql(
        employee,
        Role.EMPLOYEE,
        "proposeAgreement",
        "ProposeAgreementInput",
        "agreement { id }",
        title="Growth plan",
        careerGoal={"targetRole": role, "skills": ["research"]},
        adjustments=[{"kind": "TASK", "description": "Write a brief", "hoursPerWeek": 3}],
    )
    approved = service.gql(
        manager,
        Role.MANAGER,
        "approveAgreement",
        "ApproveAgreementInput",
        "agreement { id } position",
        agreementId=proposed["agreement"]["id"],
        guardrails={"maxDevelopmentHoursPerWeek": 6, "reviewEveryDays": 14},
    )
    return int(approved["position"]), str(proposed["agreement"]["id"])


def _outcome(service: Service, manager: str, agreement: str, kind: str) -> int:
    """Complete the agreement and record its outcome; the outcome's log position."""
    service.gql(
        manager,
        Role.MANAGER,
        "completeAgreement",
        "AgreementCommandInput",
        "agreement { id }",
        agreementId=agreement,
    )
    # Not through service.gql: the input's `kind` would clash with its own argument.
    token = mint_token(service.secret, manager, [Role.MANAGER], timedelta(minutes=5))
    response = httpx.post(
        f"{service.base}/graphql",
        json={
            "query": "mutation($input: RecordOutcomeInput!) { recordOutcome(input: $input) "
            "{ position userErrors { code } } }",
            "variables": {"input": {"agreementId": agreement, "kind": kind, "reason": "Plans"}},
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    recorded = response.json()["data"]["recordOutcome"]
    assert recorded["userErrors"] == [], recorded
    return int(recorded["position"])


def _organisation(service: Service) -> dict[str, str]:
    """Three teams: quality (6 and a manager, 3 crafting), platform (5 and a manager,
    2 crafting) and design (1 and a manager, 1 crafting: below the minimum); and ended
    agreements with an outcome (OUTCOMES: each team below the minimum for outcomes)."""
    found, last = {}, 0
    for team, size, crafting in (("quality", 6, 3), ("platform", 5, 2), ("design", 1, 1)):
        keys = ["mgr", *(f"p{i}" for i in range(size))]
        s, ids = service.team(*keys, team=team)
        for i in range(crafting):
            last, _ = _active(service, ids[f"p{i}"], ids["mgr"], "Product manager")
        for (of, i), kind in OUTCOMES.items():
            if of == team:
                _, agreement = _active(service, ids[f"p{i}"], ids["mgr"], "Product manager")
                last = max(last, _outcome(service, ids["mgr"], agreement, kind))
        found[team] = ids["mgr"]
        found[f"{team}-team"] = f"{team}-{s}"
        found["hr"] = f"hr-{s}"
    # The pages read the read models: wait until they include the last approval.
    token = mint_token(service.secret, found["hr"], [Role.HR], timedelta(minutes=5))
    waited = httpx.post(
        f"{service.base}/graphql",
        json={
            "query": "query($p: Int) { insights(consistentWith: $p) { minimumGroupSize } }",
            "variables": {"p": last},
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert "errors" not in waited.json(), waited.text
    return found


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def test_insights_page_for_hr_and_a_manager(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    org = _organisation(service)
    shots = Path(os.environ.get("CRAFTING_SCREENSHOTS", tmp_path))  # looked at by hand
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page = console.watch(browser.new_page(viewport={"width": 1280, "height": 900}))
        page.goto(service.link(org["hr"], Role.HR))
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Insights").click()
        expect(page.get_by_role("heading", name="Insights", level=1)).to_be_visible()
        participation = page.get_by_role(
            "table", name="Participation: people who have an agreement in effect"
        )
        quality = participation.get_by_role("row", name=org["quality-team"])
        expect(quality).to_contain_text("3")
        design = participation.get_by_role("row", name=org["design-team"])
        expect(design).to_contain_text("Withheld")
        # Each chart is an image named for what it shows, its figures in the table.
        expect(
            page.get_by_role("img", name="Participation: share of each group", exact=False)
        ).to_be_visible()
        # The monthly series: development time and reviews per team at each month's
        # end, each chart (the whole organisation) with a table of the same figures:
        # the whole organisation's row, and the row of one team chosen in a form.
        development = page.get_by_role(
            "table", name="Development hours as a % of each team's contracted hours", exact=False
        )
        expect(development.get_by_role("row")).to_have_count(2)  # header, All
        expect(development).not_to_contain_text(org["quality-team"])
        choice = page.get_by_label("Team in the monthly tables")
        choice.select_option(org["design-team"])
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(f"{service.base}/insights?team={org['design-team']}")
        expect(development.get_by_role("row", name=org["design-team"])).to_contain_text("withheld")
        expect(development.get_by_role("row")).to_have_count(3)  # header, design, All
        page.get_by_label("Team in the monthly tables").select_option(org["quality-team"])
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_label("Team in the monthly tables")).to_have_value(org["quality-team"])
        expect(development.get_by_role("row", name=org["quality-team"])).to_contain_text("%")
        expect(development).not_to_contain_text(org["design-team"])
        expect(
            page.get_by_role(
                "img", name="Development hours as a % of contracted hours", exact=False
            )
        ).to_be_visible()
        reviews = page.get_by_role(
            "table", name="Share of each team's people with an active agreement", exact=False
        )
        expect(reviews.get_by_role("row")).to_have_count(3)  # header, quality, All
        # Outcomes by month: each team is below the minimum (2) this month, so each is
        # withheld; the month's whole organisation (3 moved or promoted, of 5) is not.
        outcomes = page.get_by_role(
            "table", name="Share of the people of each team whose latest outcome", exact=False
        )
        expect(outcomes.get_by_role("row")).to_have_count(3)  # header, quality, All
        expect(outcomes.get_by_role("row", name=org["quality-team"])).to_contain_text("withheld")
        expect(outcomes.get_by_role("row", name="All (people)")).to_contain_text("3")
        expect(
            page.get_by_role("img", name="People whose latest outcome", exact=False)
        ).to_be_visible()
        accessible(page)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(shots / f"insights-hr-{width}.png"), full_page=True)
            assert _overflow(page) == 0, width
        # A team with no figures (an old link, a typo) is said so in words.
        page.goto(f"{service.base}/insights?team=nobody")
        expect(page.get_by_role("status")).to_contain_text(
            "There are no figures for a team called “nobody”"
        )
        expect(development.get_by_role("row")).to_have_count(2)  # header, All
        accessible(page)
        manager = console.watch(browser.new_page(viewport={"width": 390, "height": 900}))
        manager.goto(service.link(org["quality"], Role.MANAGER, Role.EMPLOYEE))
        manager.get_by_role("button", name="Sign in").click()
        manager.goto(f"{service.base}/insights")
        table = manager.get_by_role(
            "table", name="Participation: people who have an agreement in effect"
        )
        expect(table.get_by_role("row")).to_have_count(2)  # the header and their team
        expect(table).to_contain_text(org["quality-team"])
        expect(table).not_to_contain_text(org["platform-team"])
        for caption in (
            "Development hours as a % of each team",
            "Share of each team's people",
            "Share of the people of each team whose latest outcome",
        ):
            months = manager.get_by_role("table", name=caption, exact=False)
            expect(months.get_by_role("row")).to_have_count(2)  # the header and their team
            expect(months).not_to_contain_text(org["platform-team"])
        # No chart of the whole organisation: managers see no totals.
        whole = manager.get_by_role("img", name="the whole organisation", exact=False)
        expect(whole).to_have_count(0)
        accessible(manager)
        manager.screenshot(path=str(shots / "insights-manager-390.png"), full_page=True)
        assert _overflow(manager) == 0
        browser.close()
    assert console.unexpected() == []
