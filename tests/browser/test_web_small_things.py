"""The small things people trip over, in a real browser: the site has an icon, a
proposal's adjustments are not yet "active", a finished agreement has no next review, a
dead sign-in link says what a person can do, a preview with nothing to revert is
information (not an error), and the links `crafting login-link` prints point at the
port `serve` listens on."""

from __future__ import annotations

import subprocess
from pathlib import Path

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.looks import looked_at
from tests.browser.pages import Console, accessible
from tests.browser.test_web_confirm import _approved
from tests.browser.test_web_manager import _scene
from tests.processes import (
    crafting_command,
    eventually,
    free_port,
    get,
    running,
    service_env,
    start,
)


def test_every_page_has_an_icon_and_asks_for_nothing_missing(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import sync_playwright

    ids = _scene(service)
    missing: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_context().new_page()
            page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
            page.goto(service.link(ids["emp"]))
            page.get_by_role("button", name="Sign in").click()
            icon = page.locator("link[rel=icon]").get_attribute("href")
            assert icon is not None and icon.startswith("/static/favicon.")
            # What a browser asks for on its own, whatever a page links.
            answer = page.request.get(f"{service.base}/favicon.ico")
            assert answer.status == 200 and answer.headers["content-type"] == "image/svg+xml"
            page.goto(f"{service.base}/favicon.ico")
            page.goto(f"{service.base}/")
        finally:
            browser.close()
    assert missing == []


def test_a_proposal_is_not_active_and_a_completed_agreement_awaits_no_review(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _approved(service)  # "mine" approved; the peer's plan too
    proposal = service.gql(
        ids["emp"],
        Role.EMPLOYEE,
        "proposeAgreement",
        "ProposeAgreementInput",
        "agreement { id }",
        title="A second plan",
        careerGoal={"targetRole": "Product owner", "skills": []},
        adjustments=[{"kind": "TASK", "description": "Shadow the owner", "hoursPerWeek": 1}],
    )["agreement"]["id"]
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "completeAgreement",
        "AgreementCommandInput",
        "agreement { version }",
        agreementId=ids["mine"],
    )
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context().new_page())
            page.goto(service.link(ids["emp"]))
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="A second plan").click()
            adjustments = page.get_by_role("region", name="Adjustments")
            expect(adjustments).to_contain_text("Shadow the owner")
            expect(adjustments).to_contain_text("(proposed, not yet approved)")
            expect(adjustments).not_to_contain_text("(active)")
            looked_at(page, "proposal-adjustments")
            assert proposal

            page.goto(f"{service.base}/")
            eventually_completed = page.get_by_role("row").filter(has_text="Tester to product")
            expect(eventually_completed).to_contain_text("completed")
            assert eventually_completed.locator("td").last.inner_text() == "—"
            page.goto(f"{service.base}/agreements/{ids['mine']}")
            expect(page.locator("main")).not_to_contain_text("Next review")
            looked_at(page, "completed-agreement")
        finally:
            browser.close()
    assert console.unexpected() == []


def test_a_dead_sign_in_link_says_what_a_person_can_do(chromium: str, service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_context().new_page()
            page.goto(f"{service.base}/login/not-a-link")
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "This sign-in link is not valid"
            )
            main = page.locator("main")
            expect(main).not_to_contain_text("crafting")  # no command for a person to run
            expect(main).not_to_contain_text("--sub")
            expect(page.get_by_label("Your work e-mail address")).to_be_visible()
            expect(page.get_by_role("button", name="E-mail me a sign-in link")).to_be_visible()
            looked_at(page, "link-invalid")

            used = service.link("sam-used")
            page.goto(used)
            page.get_by_role("button", name="Sign in").click()
            fresh = browser.new_context().new_page()
            fresh.goto(used)
            expect(fresh.get_by_role("heading", level=1)).to_have_text(
                "This sign-in link was already used"
            )
            expect(fresh.locator("main")).not_to_contain_text("crafting login-link")
            expect(fresh.get_by_label("Your work e-mail address")).to_be_visible()
            accessible(fresh)
        finally:
            browser.close()


def test_nothing_to_revert_is_information_not_an_error(chromium: str, service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _approved(service)
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(browser.new_context().new_page())
            page.goto(service.link(ids["mgr"], Role.MANAGER, Role.EMPLOYEE))
            page.get_by_role("button", name="Sign in").click()
            answer = page.goto(f"{service.base}/agreements/{ids['mine']}/revert-to?version=2")
            assert answer is not None and answer.status == 200
            said = page.get_by_role("status")
            expect(said).to_contain_text("Nothing has changed since version 2.")
            assert not page.title().startswith("Error")
            assert page.locator(".error, [role=alert], [aria-invalid=true]").count() == 0
            colour = said.evaluate("p => getComputedStyle(p).color")
            assert colour != "rgb(161, 21, 15)"  # not the errors' red
            looked_at(page, "nothing-to-revert")
        finally:
            browser.close()
    assert console.unexpected() == []


def test_sign_in_links_point_at_the_port_serve_listens_on(chromium: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    env = service_env(f"sqlite:///{tmp_path / 'crafting.db'}", CRAFTING_SERVE_PROJECTIONS="true")
    env.pop("CRAFTING_PUBLIC_URL", None)
    serve = start(["serve", "--port", str(port)], env, tmp_path / "serve", cwd=tmp_path)
    with running(serve):
        base = f"http://127.0.0.1:{port}"
        assert eventually(lambda: get(f"{base}/healthz")[0] == 200, 60), serve.output()
        # Another terminal, the same folder: no CRAFTING_PUBLIC_URL there either.
        printed = subprocess.run(
            [*crafting_command(), "login-link", "--sub", "sam-port"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        assert printed.startswith(f"{base}/login/"), printed
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            try:
                page = browser.new_context().new_page()
                page.goto(printed)
                expect(page.get_by_role("button", name="Sign in")).to_be_visible()
            finally:
                browser.close()
