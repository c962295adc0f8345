"""A refused form, as people meet it in a real browser: the page opens at the form, the
focus is on a summary of every mistake (all at once, in the page's words, each a link
to its field), and the title starts with "Error:"."""

from __future__ import annotations

import re
from typing import Any

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible, open_action
from tests.browser.test_web_manager import _scene

CODE_WORDS = re.compile(r"\w+\.\w+|\[\d+\]|[A-Z]{3,}_?[A-Z]*|'[a-z]+-[0-9a-f]+'")


def _summary_of(page: Any) -> list[str]:
    """The refused form's summary: focused, in view, its errors (each links to a field
    that is there); the title says it is an error."""
    from playwright.sync_api import expect

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    assert page.title().startswith("Error: "), page.title()
    box = summary.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"], box
    texts: list[str] = []
    for item in summary.locator("li").all():
        text = item.inner_text().strip()
        assert not CODE_WORDS.search(text), text  # no field paths, enum names, ids
        link = item.locator("a")
        if link.count():
            target = link.get_attribute("href")
            assert target and page.locator(target).count() == 1, target
        texts.append(text)
    return texts


def test_a_refused_proposal_tells_every_mistake_at_once_where_the_eye_is(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = service.team("mgr", "emp")[1]
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context().new_page())
            page.goto(service.link(ids["emp"]))
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Propose").click()
            page.get_by_label("Skills to build").fill("testing")
            row = page.get_by_role("group", name="Adjustment 1")
            row.get_by_label("Description").fill("Pair with a product owner")
            row.get_by_label("Hours per week").fill("1.1")
            page.get_by_role("button", name="Propose").click()

            assert _summary_of(page) == [
                "Title must not be empty.",
                "Target role must not be empty.",
                "Adjustment 1: hours per week must be in steps of a quarter hour.",
            ]
            accessible(page)
            # Each error leads to its field.
            page.get_by_role("link", name="Target role must not be empty.").click()
            expect(page.get_by_label("Target role")).to_be_focused()
        finally:
            browser.close()
    assert console.unexpected() == []


def test_a_refused_approval_and_reallocation_are_told_in_the_page_s_words(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _scene(service)
    s = ids["s"]
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context().new_page())
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{service.base}/agreements/{ids['mine']}")
            page.get_by_label("Most development hours per week").fill("1.1")
            page.get_by_label("Review every (days)").fill("0")
            page.get_by_label("Protected responsibilities (comma-separated)").fill("x" * 101)
            page.get_by_role("button", name="Approve", exact=True).click()
            assert _summary_of(page) == [
                "Most development hours per week must be in steps of a quarter hour.",
                "Review every (days) must be 1 to 365.",
                "Protected responsibilities must be at most 100 characters.",
            ]
            accessible(page)

            page.get_by_label("Most development hours per week").fill("4")
            page.get_by_label("Review every (days)").fill("14")
            page.get_by_label("Protected responsibilities (comma-separated)").fill("")
            page.get_by_role("button", name="Approve", exact=True).click()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            assert not page.title().startswith("Error")

            # Alex receives 3 of the 4 hours allowed: 2 more is refused with what fits.
            form = open_action(page, "form[action$='/reallocate']")
            form.get_by_label("Task").fill("Bug triage")
            form.get_by_label("Receiver").select_option(label=f"Alex Mate {s}")
            form.get_by_label("Hours per week").fill("2")
            form.get_by_label("Reason (required)").fill("Room for briefs")
            form.get_by_role("button", name="Reallocate").click()
            assert _summary_of(page) == [f"Alex Mate {s} can take 1 h more a week."]
            expect(page.locator("#reallocate-toPersonId-error")).to_have_text(
                f"Alex Mate {s} can take 1 h more a week."
            )

            # Three mistakes in one reallocation: three errors.
            form = open_action(page, "form[action$='/reallocate']")
            form.get_by_label("Task").fill("")
            form.get_by_label("Hours per week").fill("0.3")
            form.get_by_label("Reason (required)").fill("")
            form.get_by_role("button", name="Reallocate").click()
            assert _summary_of(page) == [
                "Task must not be empty.",
                "Hours per week must be in steps of a quarter hour.",
                "A reason is required for this action.",
            ]
            accessible(page)
        finally:
            browser.close()
    assert console.unexpected() == []
