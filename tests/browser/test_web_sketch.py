"""The crafting sketch in a real browser: the employee draws it with plain forms and no
script at all (add, edit and remove blocks, a refused after-state shown where the eye
is, relationships, purpose), the picture and its tables show it, and the manager sees
it on the proposal they decide on. Axe finds nothing serious and nothing scrolls
sideways at 320, 390 and 1280 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible

WIDTHS = (320, 390, 1280)


def _scene(service: Service) -> dict[str, str]:
    """An employee's proposal of 2 development hours (5% of 40 contracted), awaiting
    their manager."""
    names = {"mgr": "Morgan Manager", "emp": "Erin Tester", "mate": "Alex Mate"}
    s, ids = service.team(*names, names=names)
    agreement = service.gql(
        ids["emp"],
        Role.EMPLOYEE,
        "proposeAgreement",
        "ProposeAgreementInput",
        "agreement { id }",
        title="Tester to product manager",
        careerGoal={"targetRole": "Product manager", "skills": ["customer research"]},
        adjustments=[{"kind": "TASK", "description": "Interview customers", "hoursPerWeek": 2}],
    )["agreement"]
    ids["mine"] = str(agreement_uuid(agreement["id"]))
    ids["s"] = s
    return ids


def _signed_in(
    browser: Any, service: Service, console: Console, sub: str, *roles: Role, script: bool = False
) -> Any:
    # Without script by default: every step must work with plain forms.
    page = console.watch(browser.new_context(java_script_enabled=script).new_page())
    page.goto(service.link(sub, *roles))
    page.get_by_role("button", name="Sign in").click()
    return page


def _looked_at(page: Any, folder: Path, name: str) -> None:
    """At each width: axe finds nothing serious, nothing scrolls sideways, and a
    screenshot to look at (axe runs script: `page` has it)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert _overflow(page) <= 0, (name, width)
        accessible(page)
        page.screenshot(path=folder / f"{name}-{width}.png", full_page=True)


def _row(page: Any, part: str, row: int, **values: str) -> None:
    for name, value in values.items():
        field = page.locator(f"#f-{part}-{row}-{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def test_the_employee_draws_the_sketch_without_script_and_the_manager_sees_it(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _scene(service)
    mine = f"{service.base}/agreements/{ids['mine']}"
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = _signed_in(browser, service, console, ids["emp"])
            page.goto(mine)
            page.get_by_role("link", name="Draw the sketch").click()
            expect(page.get_by_role("heading", name="Crafting sketch")).to_be_visible()

            # The job as it is: two blocks, the second in a row added without script.
            before = page.locator("form", has=page.locator("input[name=part][value=before]"))
            _row(page, "before", 0, name="Regression testing", share="60", energy="draining")
            before.get_by_role("button", name="Add a row").click()
            expect(page.locator("#f-before-1-name")).to_be_focused()  # the new row
            _row(page, "before", 1, name="Meetings", share="30", energy="neutral")
            before.get_by_role("button", name="Add a row").click()
            _row(page, "before", 2, name="Email", share="10", energy="draining")
            page.locator("form", has=page.locator("#f-before-2-name")).get_by_role(
                "button", name="Save the job as it is"
            ).click()
            expect(page.get_by_role("status")).to_have_text("Your sketch is saved.")
            expect(
                page.get_by_role("img", name="The job before and after crafting")
            ).to_be_visible()

            # Remove a block: Email goes, Meetings grows to keep 100%.
            page.locator("#f-before-1-share").fill("40")
            page.locator("#f-before-2-remove").check()
            page.get_by_role("button", name="Save the job as it is").click()
            expect(page.get_by_role("status")).to_have_text("Your sketch is saved.")
            table = page.get_by_role("table", name="The job before")
            expect(table).to_contain_text("Meetings")
            expect(table).not_to_contain_text("Email")

            # The crafted job, with shares that do not add up first: refused, in words.
            after = page.locator("form", has=page.locator("input[name=part][value=after]"))
            _row(
                page,
                "after",
                0,
                name="Regression testing",
                share="45",
                energy="neutral",
                **{"from": "Regression testing"},
            )
            after.get_by_role("button", name="Add a row").click()
            _row(page, "after", 1, name="Meetings", share="40", energy="neutral")
            page.locator("#f-after-1-from").select_option(label="Meetings")
            after.get_by_role("button", name="Add a row").click()
            _row(page, "after", 2, name="Customer interviews", share="5", energy="energising")
            page.locator("#f-after-2-link").select_option(label="Adjustment: Interview customers")
            page.locator("#f-after-2-skill").select_option(label="customer research")
            page.get_by_role("button", name="Save the crafted job").click()
            summary = page.locator("#error-summary")
            expect(summary).to_contain_text("take 90% of the week")
            expect(summary).to_be_focused()
            page.locator("#f-after-0-share").fill("55")
            page.get_by_role("button", name="Save the crafted job").click()
            expect(page.get_by_role("status")).to_have_text("Your sketch is saved.")
            crafted = page.get_by_role("table", name="The job after crafting")
            expect(crafted).to_contain_text("resized")
            expect(crafted).to_contain_text(
                "adjustment: Interview customers; skill: customer research"
            )

            # Relationships and purpose.
            _row(page, "relationships", 0, kind="Mentor", name="A product lead in another unit")
            page.get_by_role("button", name="Save the relationships").click()
            expect(page.get_by_role("status")).to_have_text("Your sketch is saved.")
            _row(page, "relationships", 1, kind="Shadowing", person=f"Alex Mate {ids['s']}")
            page.get_by_role("button", name="Save the relationships").click()
            page.get_by_label("How you see the purpose of your work").fill(
                "Releases customers can trust, and products they ask for."
            )
            page.get_by_role("button", name="Save the purpose").click()
            expect(page.get_by_role("status")).to_have_text("Your sketch is saved.")
            looking = _signed_in(browser, service, console, ids["emp"], script=True)
            looking.goto(f"{mine}/sketch")
            _looked_at(looking, tmp_path, "editor")
            # A refused form, with script: its error summary is accessible too.
            looking.locator("#f-after-0-share").fill("50")
            looking.get_by_role("button", name="Save the crafted job").click()
            expect(looking.locator("#error-summary")).to_contain_text("take 95% of the week")
            _looked_at(looking, tmp_path, "editor-refused")

            # The manager deciding on the proposal sees it, with the people by name.
            manager = _signed_in(browser, service, console, ids["mgr"], Role.MANAGER)
            manager.goto(mine)
            sketch = manager.locator("section", has=manager.locator("h2#sketch"))
            expect(
                sketch.get_by_role("img", name="The job before and after crafting")
            ).to_be_visible()
            expect(sketch).to_contain_text("Shadowing: Alex Mate")
            expect(sketch).to_contain_text("Releases customers can trust")
            expect(sketch).to_contain_text("Time moved into development: 5% of the week")
            expect(sketch.get_by_role("link", name="Edit the sketch")).to_have_count(0)
            expect(manager.get_by_role("heading", name="Approve with guardrails")).to_be_visible()
            seeing = _signed_in(browser, service, console, ids["mgr"], Role.MANAGER, script=True)
            seeing.goto(mine)
            _looked_at(seeing, tmp_path, "agreement-as-manager")
            seeing.locator("section", has=seeing.locator("h2#sketch")).screenshot(
                path=tmp_path / "sketch.png"
            )
            # The editor is the employee's: the manager gets the page every stranger does.
            response = manager.goto(f"{mine}/sketch")
            assert response is not None and response.status == 404
        finally:
            browser.close()
    assert console.unexpected() == []
