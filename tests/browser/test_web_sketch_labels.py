"""The sketch's picture labels every block and keeps each label inside it: a 3% block
had no label, "20%, energising, kept" ran past the block's edge, and a block whose
energy changed (its share kept) read "kept"."""

from __future__ import annotations

from typing import Any

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.looks import looked_at
from tests.browser.pages import Console
from tests.browser.test_web_sketch import _scene

# Each label against its block: how far its text runs past the block's right edge.
PAST_THE_EDGE = """svg => [...svg.querySelectorAll('g')].flatMap(g => {
  const box = g.querySelector('rect').getBBox();
  return [...g.querySelectorAll('text')].map(t => {
    const b = t.getBBox();
    return [t.textContent, Math.round(b.x + b.width - (box.x + box.width))];
  });
})"""


def _sketched(service: Service, ids: dict[str, str]) -> None:
    block = {"energy": "NEUTRAL"}
    service.gql(
        ids["emp"],
        Role.EMPLOYEE,
        "setSketch",
        "SetSketchInput",
        "agreement { version }",
        agreementId=ids["mine"],
        sketch={
            "before": [
                {"id": "a", "name": "Regression testing", "share": 62, "energy": "DRAINING"},
                {"id": "b", "name": "Release notes", "share": 20, "energy": "ENERGISING"},
                {"id": "c", "name": "Email", "share": 3, **block},
                {"id": "d", "name": "Code review", "share": 15, **block},
            ],
            "after": [
                {
                    "name": "Regression testing",
                    "share": 57,
                    "energy": "DRAINING",
                    "fromBlockId": "a",
                },
                {"name": "Release notes", "share": 20, "energy": "ENERGISING", "fromBlockId": "b"},
                {"name": "Email", "share": 3, "energy": "DRAINING", "fromBlockId": "c"},
                {"name": "Code review", "share": 15, "energy": "ENERGISING", "fromBlockId": "d"},
                {
                    "name": "Interview customers",
                    "share": 5,
                    "energy": "ENERGISING",
                    "skill": "customer research",
                },
            ],
            "purpose": "Learn what customers need",
        },
    )


def test_every_block_is_labelled_inside_its_edges_and_an_energy_change_is_named(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _scene(service)
    _sketched(service, ids)
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page: Any = console.watch(browser.new_page())
            page.goto(service.link(ids["emp"], Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{service.base}/agreements/{ids['mine']}")
            svg = page.locator("svg.sketch").first
            labels = svg.evaluate(PAST_THE_EDGE)
            texts = [text for text, _ in labels]
            assert "Email, 3%" in texts, texts  # the thin block has its label
            assert [t for t, past in labels if past > 0] == [], labels  # none cut
            assert "kept" in texts, texts  # on a line of its own: "20%, energising" first
            # Code review kept its share, not its energy: it says so.
            assert texts.count("energy changed") == 1, texts
            table = page.get_by_role("table", name="The job after crafting")
            email = table.get_by_role("row").filter(has_text="Email")
            expect(email).to_contain_text("energy changed (was neutral)")
            looked_at(page, "sketch-labels")
        finally:
            browser.close()
    assert console.unexpected() == []
