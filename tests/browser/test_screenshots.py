"""The README's pictures of the web app, taken anew on every run so they stay true: a
real `crafting serve` on SQLite (one database is enough for pictures) loaded with
`crafting demo` — the seed's tester growing toward product management, their manager,
an auditor and HR — and chromium at a fixed viewport. Every run takes them (so every
page shown is exercised); only CRAFTING_RETAKE_SCREENSHOTS=1 saves them over the tracked
docs/screenshots/*.png, so a plain `pytest` leaves a clone clean."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import Console
from tests.browser.test_web_dossier import first_page
from tests.processes import service_env, start

SHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
RETAKE = "CRAFTING_RETAKE_SCREENSHOTS"
VIEWPORT = {"width": 1280, "height": 900}
STORY = "From testing toward product management"
NEXT_STEP = "Own the discovery for bulk export v2"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only, with the demo organisation loaded before the service starts."""
    url = f"sqlite:///{tmp_path}/crafting.db"
    demo = start(["demo"], service_env(url), tmp_path / "demo")
    assert demo.process.wait(timeout=180) == 0, demo.output()
    return url


def screenshot_folder(scratch: Path) -> Path:
    """Where the pictures go: the README's folder when asked to retake them, else
    `scratch`."""
    return SHOTS if os.environ.get(RETAKE) == "1" else scratch


def test_screenshots_are_saved_over_the_readme_s_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(RETAKE, raising=False)
    assert screenshot_folder(tmp_path) == tmp_path
    monkeypatch.setenv(RETAKE, "1")
    assert screenshot_folder(tmp_path) == SHOTS


@pytest.mark.pdf  # the story's dossier is one of them
def test_the_readme_screenshots(chromium: str, service: Service, tmp_path: Path) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    folder = screenshot_folder(tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    console = Console()

    def shot(page: Page, name: str, *, full_page: bool = False) -> None:
        page.wait_for_load_state("networkidle")  # htmx fragments (the badge) are in
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=full_page, animations="disabled")
        assert path.stat().st_size > 0

    def signed_in(browser: Any, sub: str, *roles: Role) -> Page:
        page: Page = console.watch(browser.new_context(viewport=VIEWPORT).new_page())
        page.goto(service.link(sub, *roles))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return page

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context(viewport=VIEWPORT).new_page())
            page.goto(f"{service.base}/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            shot(page, "sign-in")

            sam = signed_in(browser, "sam-tester", Role.EMPLOYEE)
            expect(sam.get_by_role("link", name=NEXT_STEP)).to_be_visible()
            shot(sam, "my-agreements")
            sam.get_by_role("link", name="Propose").click()
            expect(sam.get_by_role("heading", name="Propose an agreement")).to_be_visible()
            shot(sam, "propose")
            # The story's crafting sketch, as the agreement page draws it.
            sam.get_by_role("link", name="My agreements").click()
            sam.get_by_role("link", name=STORY).first.click()
            sketch = sam.locator("section", has=sam.locator("h2#sketch"))
            expect(
                sketch.get_by_role("img", name="The job before and after crafting")
            ).to_be_visible()
            sketch.screenshot(path=folder / "crafting-sketch.png", animations="disabled")
            sam.get_by_role("link", name="Edit the sketch").click()
            expect(sam.get_by_role("heading", name="Crafting sketch")).to_be_visible()
            shot(sam, "crafting-sketch-editor")
            sam.get_by_role("link", name="Career evidence").click()
            expect(sam.get_by_role("img", name="Artifacts per skill")).to_be_visible()
            shot(sam, "career-evidence")
            # The story's promotion dossier: its first page, as the PDF renders it.
            sam.goto(f"{service.base}/")  # my agreements
            sam.get_by_role("link", name=STORY).first.click()
            with sam.expect_download(timeout=60_000) as waiting:
                sam.get_by_role("button", name="Download the promotion dossier (PDF)").click()
            pdf = tmp_path / "dossier.pdf"
            waiting.value.save_as(pdf)
            first_page(pdf, folder)

            manager = signed_in(browser, "mgr-qa", Role.MANAGER, Role.EMPLOYEE)
            manager.get_by_role("link", name="Inbox").click()
            awaiting = manager.locator("section", has=manager.locator("#awaiting"))
            expect(awaiting.get_by_role("link", name=NEXT_STEP)).to_be_visible()
            shot(manager, "inbox")
            manager.get_by_role("link", name="Team workload").click()
            expect(manager.get_by_role("img").first).to_be_visible()
            shot(manager, "team-workload", full_page=True)
            # The tester's next step, awaiting the manager: the page with its actions.
            manager.get_by_role("link", name="Inbox").click()
            awaiting.get_by_role("link", name=NEXT_STEP).click()
            expect(manager.get_by_role("heading", name="Approve with guardrails")).to_be_visible()
            shot(manager, "agreement-as-manager", full_page=True)
            manager.get_by_role("link", name="Inbox").click()
            manager.get_by_role("link", name=STORY).first.click()
            expect(manager.get_by_role("heading", name=STORY)).to_be_visible()
            story = manager.url.split("?")[0]
            manager.goto(f"{story}/revert-to?version=2")
            expect(
                # The story's adjustment, its reallocation and its sketch.
                manager.get_by_role("heading", name="This would revert 3 changes")
            ).to_be_visible()
            shot(manager, "revert-to-version-preview")

            auditor = signed_in(browser, "auditor-demo", Role.AUDITOR)
            auditor.goto(f"{story}/timeline")
            expect(auditor.get_by_role("heading", name=f"Timeline: {STORY}")).to_be_visible()
            shot(auditor, "timeline")
            auditor.get_by_role("link", name="Audit log").click()
            expect(auditor.get_by_role("heading", name="Audit log")).to_be_visible()
            shot(auditor, "audit-log")
        finally:
            browser.close()
    assert console.unexpected() == []
