"""Leftovers of the web app's usability, in a real browser: a refused revert to a
version opens at an error summary like every other refused form, and the navigation
stays one line on a 1280 px screen."""

from __future__ import annotations

from pathlib import Path

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible
from tests.browser.test_web_confirm import _approved
from tests.browser.test_web_refusals import _summary_of
from tests.browser.test_web_team import _looked_at, _signed_in


def test_a_refused_revert_to_a_version_opens_at_its_error_summary(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _approved(service)
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "addAdjustment",
        "AddAdjustmentInput",
        "agreement { version }",
        agreementId=ids["mine"],
        adjustment={"kind": "RELATIONAL", "description": "Shadow a PM", "hoursPerWeek": 1},
    )
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = _signed_in(
                browser, console, service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
            )
            page.goto(f"{service.base}/agreements/{ids['mine']}/revert-to?version=99")
            [message] = _summary_of(page)
            assert "99" in message or "version" in message.lower(), message
            page.locator("#error-summary a").click()
            expect(page.locator("#preview-version")).to_be_focused()
            accessible(page)

            page.locator("#preview-version").fill("2")
            page.get_by_role("button", name="Preview").click()
            expect(page.get_by_role("heading", name="This would revert 1 change")).to_be_visible()
            page.get_by_role("button", name="Confirm the revert").click()
            [message] = _summary_of(page)
            assert "reason" in message.lower(), message
            page.locator("#error-summary a").click()
            expect(page.locator("#revert-to-reason")).to_be_focused()
            _looked_at(page, tmp_path, "revert-refused")
        finally:
            browser.close()
    assert console.unexpected() == []


def test_the_navigation_is_one_line_at_1280_px(chromium: str, service: Service) -> None:
    """HR has the most links; a manager has counts beside theirs. The header is two
    rows: the brand beside who is signed in, then the links; nothing falls to a row of
    its own."""
    from playwright.sync_api import sync_playwright

    ids = _approved(service)
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            for link in (
                service.link(f"hr-{ids['s']}", Role.HR),
                service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE),
            ):
                page = _signed_in(browser, console, link)
                page.set_viewport_size({"width": 1280, "height": 800})
                tops = page.locator(".site-header nav li").evaluate_all(
                    "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
                )
                assert len(tops) > 4 and len(set(tops)) == 1, tops
                brand, out = (
                    page.locator(sel).bounding_box() for sel in (".brand", ".sign-out button")
                )
                assert brand is not None and out is not None
                # On one row: their boxes overlap vertically.
                assert out["y"] < brand["y"] + brand["height"], (brand, out)
                assert brand["y"] < out["y"] + out["height"], (brand, out)
        finally:
            browser.close()
    assert console.unexpected() == []
