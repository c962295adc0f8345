"""The manager's team in a real browser against a real `crafting serve`: the workload
chart tells the truth (the receiving limit is marked on the received bar only, a
negative net has a bar) and at 320, 390 and 1280 px nothing scrolls sideways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible
from tests.browser.test_web_manager import _scene

WIDTHS = (320, 390, 1280)


def _signed_in(browser: Any, console: Console, link: str) -> Any:
    page = console.watch(browser.new_context().new_page())
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    return page


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def _looked_at(page: Any, folder: Path, name: str) -> None:
    """No sideways scroll at any width, axe clean, a picture of each width to look at."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert _overflow(page) == 0, (name, width)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    accessible(page)


# Each bar row of the chart: which figure it draws, its bar's width, whether the
# receiving limit is marked on it; and how big its text is as the page shows it.
CHART_SHAPES = """chart => [...chart.querySelectorAll('.workload-row')].map(row => ({
  key: ['development', 'given', 'net'].find(k => row.classList.contains(k)),
  width: Number(row.querySelector('rect').getAttribute('width')),
  limit: row.querySelectorAll('line.limit').length,
  text: parseFloat(getComputedStyle(row.querySelector('.workload-figure')).fontSize),
}))"""


def test_the_limit_marks_only_the_received_bar_and_a_negative_net_has_a_bar(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    """Pat Peer gave 3 h (net -3 h) and develops 1 h; Alex Mate receives 3 h."""
    from playwright.sync_api import sync_playwright

    ids = _scene(service)
    s = ids["s"]
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = _signed_in(
                browser, console, service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
            )
            page.goto(f"{service.base}/team?team=team-{s}")
            chart = page.get_by_role("img", name=f"Hours per week of each member of team-{s}")
            rows = chart.evaluate(CHART_SHAPES)
            # The limit is marked on every received bar, and on nothing else.
            assert rows and all((r["limit"] == 1) == (r["key"] == "net") for r in rows), rows
            # Every figure that is not zero has a bar, the negative net too.
            figures = page.locator("table tbody tr").evaluate_all(
                """rows => rows.flatMap(r => [...r.querySelectorAll('td')].filter((_, i) =>
                     [1, 2, 4].includes(i)).map(td => Number(td.textContent)))"""
            )
            assert -3 in figures
            drawn = [r for r in rows if r["width"] > 0]
            assert len(drawn) == len([f for f in figures if f != 0]), (figures, rows)
            # On a phone the chart's text is as large as the page's (an SVG scaled down
            # to 320 px had 5 px text).
            page.set_viewport_size({"width": 320, "height": 900})
            sizes = {r["text"] for r in chart.evaluate(CHART_SHAPES)}
            assert min(sizes) >= 13, sizes
            name = chart.get_by_text(f"Pat Peer {s}", exact=True)
            assert float(name.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 14
            _looked_at(page, tmp_path, "team-chart")
        finally:
            browser.close()
    assert console.unexpected() == []


def test_a_manager_sorts_and_filters_their_reports_without_script(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    """Erin's proposal awaits the manager; Pat's agreement runs; Alex has none."""
    from playwright.sync_api import expect, sync_playwright

    ids = _scene(service)
    s = ids["s"]
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            # axe needs script: it looks at the page in a browser that runs it.
            looked = _signed_in(
                browser, console, service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
            )
            looked.goto(f"{service.base}/reports")
            _looked_at(looked, tmp_path, "reports")
            page = console.watch(browser.new_context(java_script_enabled=False).new_page())
            page.set_default_timeout(20_000)
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="My reports").click()
            expect(page.get_by_role("heading", name="My reports")).to_be_visible()
            names = page.locator("table.reports tbody th")
            expect(names).to_have_count(3)
            expect(page.get_by_role("row", name=f"Erin Tester {s}")).to_contain_text(
                "You: decide on the proposal"
            )
            expect(page.get_by_role("row", name=f"Pat Peer {s}")).to_contain_text(
                "3 given, 0 received (net -3 of 4)"
            )
            page.set_viewport_size({"width": 1280, "height": 900})
            page.get_by_role("link", name="Given / received h/week (net)").click()
            expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Given / received")
            expect(names.first).to_have_text(f"Pat Peer {s}")
            page.get_by_role("link", name="Given / received h/week (net)").click()
            expect(page.locator("th[aria-sort=descending]")).to_contain_text("Given / received")
            expect(names.first).to_have_text(f"Alex Mate {s}")

            page.get_by_label("Awaiting").select_option(label="Awaiting you")
            page.get_by_role("button", name="Filter").click()
            expect(names).to_have_count(2)  # Erin's proposal, Pat's review due in 14 days
            page.get_by_label("Agreement status").select_option(label="proposed")
            page.get_by_role("button", name="Filter").click()
            expect(names).to_have_count(1)
            expect(names.first).to_have_text(f"Erin Tester {s}")
            expect(page.get_by_role("status")).to_have_text("1 of 3 reports shown.")
            looked.goto(page.url)
            accessible(looked)
        finally:
            browser.close()
    assert console.unexpected() == []
