"""The navigation on a phone: HR's ten links took four rows of a 320 px screen; now
they are one "Menu" row (a disclosure: no script needed, opened by keyboard) whose badge
keeps the links' counts. On a wide screen the links are a row, no menu to open."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Service
from tests.browser.looks import looked_at
from tests.browser.pages import Console
from tests.browser.test_web_deactivations import _hr, _wave


def _nav_height(page: Any) -> float:
    box = page.get_by_role("navigation", name="Main").bounding_box()
    assert box is not None
    return float(box["height"])


def test_hrs_navigation_is_one_menu_row_on_a_phone_and_a_row_of_links_when_wide(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    s, _ids, _names = _wave(service)
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(_hr(browser, service, s))
            page.set_viewport_size({"width": 320, "height": 800})
            page.goto(f"{service.base}/agreements")
            nav = page.get_by_role("navigation", name="Main")
            menu = nav.locator("summary")
            expect(menu).to_have_text("Menu 2 waiting for you")  # the held wave's count
            expect(nav.get_by_role("link", name="People", exact=True)).to_be_hidden()
            assert _nav_height(page) < 50  # one row (four before)
            looked_at(page, "nav-menu-closed")

            # By keyboard: to the menu, open it, on to the links and their counts.
            page.set_viewport_size({"width": 320, "height": 800})
            menu.focus()
            page.keyboard.press("Enter")
            held = nav.get_by_role("link", name="Held deactivations 2 people")
            expect(held).to_be_visible()
            page.keyboard.press("Tab")
            expect(nav.get_by_role("link", name="Inbox")).to_be_focused()
            looked_at(page, "nav-menu-open")
            page.set_viewport_size({"width": 320, "height": 800})
            held.click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Held deactivations")

            # Wide: the links in a row, shown without opening anything.
            page.set_viewport_size({"width": 1280, "height": 800})
            expect(menu).to_be_hidden()
            expect(nav.get_by_role("link", name="People", exact=True)).to_be_visible()
            expect(held).to_be_visible()

            # Without script the menu opens all the same.
            bare = _hr(browser, service, s, script=False)
            bare.set_viewport_size({"width": 320, "height": 800})
            bare.goto(f"{service.base}/agreements")
            bare_nav = bare.get_by_role("navigation", name="Main")
            bare_nav.locator("summary").click()
            bare_nav.get_by_role("link", name="People", exact=True).click()
            expect(bare.get_by_role("heading", level=1)).to_have_text("People")
        finally:
            browser.close()
    assert console.unexpected() == []
