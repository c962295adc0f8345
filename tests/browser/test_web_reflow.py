"""Every page on a phone and zoomed in (WCAG reflow), in a real browser: at 320, 390 and
1280 CSS px nothing scrolls sideways (a wide table scrolls inside its own frame), and at
200% zoom on a laptop (640 x 360 CSS px) the header takes less than 40% of the screen."""

from __future__ import annotations

from typing import Any

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console
from tests.browser.test_web_confirm import _approved

WIDTHS = (320, 390, 1280)


def _pages(service: Service, ids: dict[str, str]) -> dict[str, list[str]]:
    """Who sees which pages (every page the web app has, with data on it)."""
    s, mine = ids["s"], f"/agreements/{ids['mine']}"
    return {
        "hr": [
            "/agreements",
            "/people",
            "/audit",
            "/inbox",
            f"/team?team=team-{s}",
            mine,
            f"{mine}/timeline",
            f"{mine}/changes?version=1",
            f"{mine}/as-of?version=1",
            f"{mine}/integrity",
            f"{mine}/revert-to?version=2",
            f"/people/{ids['emp']}/career",
            "/agreements/new",
            "/agreements/not-there",
            "/notifications",
        ],
        "mgr": ["/inbox", "/reports", f"/team?team=team-{s}", mine, "/", "/notifications"],
        "emp": [
            "/",
            mine,
            "/career",
            "/agreements/new",
            "/notifications",
            "/notifications/settings",
        ],
    }


def _overflow(page: Any) -> int:
    """How far the page scrolls sideways (0: not at all)."""
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def test_no_page_scrolls_sideways_at_320_390_or_1280_px(chromium: str, service: Service) -> None:
    from playwright.sync_api import sync_playwright

    ids = _approved(service)
    s = ids["s"]
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "reallocateTask",
        "ReallocateTaskInput",
        "agreement { version }",
        agreementId=ids["mine"],
        task="Regression triage with a long name that wraps",
        hoursPerWeek=1,
        toPersonId=ids["mate"],
        reason="Room for the plan",
    )
    links = {
        "hr": service.link(f"hr-{s}", Role.HR),
        "mgr": service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE),
        "emp": service.link(ids["emp"]),
    }
    console = Console()
    wide: list[tuple[str, int, int]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            for who, paths in _pages(service, ids).items():
                page = console.watch(browser.new_context().new_page())
                page.goto(links[who])
                page.get_by_role("button", name="Sign in").click()
                for path in [*paths, "/signin"]:
                    page.goto(f"{service.base}{path}")
                    for width in WIDTHS:
                        page.set_viewport_size({"width": width, "height": 800})
                        if _overflow(page) > 0:
                            wide.append((f"{who} {path}", width, _overflow(page)))

                # 200% zoom on a 1280 x 720 laptop: the header leaves room for the page.
                page.set_viewport_size({"width": 640, "height": 360})
                page.goto(f"{service.base}{paths[0]}")
                header = page.locator(".site-header").bounding_box()
                assert header is not None and header["height"] < 0.4 * 360, (who, header)
        finally:
            browser.close()
    assert wide == [], wide
    assert [e for e in console.unexpected() if "404" not in e] == []
