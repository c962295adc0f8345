"""HR decides a held deactivation wave in the web app: the navigation counts the held
people, the page names them, and each decision is asked first — in a dialog where
script runs, on a page of its own without script — and sent as GraphQL's command. A
decision on a wave that changed since the page was shown is refused in an error
summary; nobody is deactivated who HR did not see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from api.http.auth import mint_token
from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.looks import looked_at
from tests.browser.pages import Console, accessible, confirm

HELD = "query { heldDeactivations { personId person { active } } }"


def _deactivate(service: Service, person_id: str) -> int:
    """The identity provider deactivates one person (SCIM), as Okta or Entra would."""
    token = mint_token(service.secret, "okta", [Role.INTEGRATION], timedelta(minutes=5))
    response = httpx.patch(
        f"{service.base}/scim/v2/Users/{person_id}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        timeout=30,
    )
    return response.status_code


def _held(service: Service) -> list[dict[str, Any]]:
    token = mint_token(service.secret, "hr-check", [Role.HR], timedelta(minutes=5))
    response = httpx.post(
        f"{service.base}/graphql",
        json={"query": HELD},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    held: list[dict[str, Any]] = response.json()["data"]["heldDeactivations"]
    return held


def _wave(service: Service) -> tuple[str, dict[str, str], list[str]]:
    """Six people; the provider deactivates five: three pass (the smallest wave always
    does), two are held. Returns the suffix, the ids and the held people's names."""
    keys = ("mgr", "ana", "ben", "cai", "dev", "eli")
    names = {"ana": "Ana Held", "ben": "Ben Held", "dev": "Dev Held", "eli": "Eli Held"}
    s, ids = service.team(*keys, names=names)
    statuses = [_deactivate(service, ids[k]) for k in ("cai", "mgr", "ana", "ben", "dev")]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [202, 202], statuses
    return s, ids, [f"Ben Held {s}", f"Dev Held {s}"]


def _hr(browser: Any, service: Service, s: str, *, script: bool = True) -> Any:
    page = browser.new_context(java_script_enabled=script).new_page()
    page.goto(service.link(f"hr-{s}", Role.HR))
    page.get_by_role("button", name="Sign in").click()
    return page


def test_hr_sees_the_held_wave_by_name_and_deactivates_it_after_a_dialog(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    s, _ids, held = _wave(service)
    console = Console()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = console.watch(_hr(browser, service, s))
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(f"{service.base}/people")
            expect(page.locator("main")).to_contain_text("2 deactivations are held")
            looked_at(page, "hr-people-wave")
            page.set_viewport_size({"width": 1280, "height": 900})
            nav = page.get_by_role("navigation", name="Main")
            nav.get_by_role("link", name="Held deactivations 2 people").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Held deactivations")
            table = page.get_by_role("table", name="2 held deactivations")
            for name in held:
                expect(table.get_by_role("link", name=name)).to_be_visible()
            looked_at(page, "hr-deactivations")

            page.set_viewport_size({"width": 1280, "height": 900})
            page.locator("#deactivate-reason").fill("Office closed")
            page.get_by_role("button", name="Deactivate 2 people").click()
            dialog = page.locator("#confirm-dialog")
            expect(dialog).to_contain_text(f"Deactivate 2 people: {held[0]}, {held[1]}?")
            accessible(page)
            dialog.get_by_role("button", name="Cancel").click()
            assert len(_held(service)) == 2  # cancelled: nothing recorded

            page.get_by_role("button", name="Deactivate 2 people").click()
            confirm(page)
            expect(page.get_by_role("status")).to_have_text(
                "Your decision is recorded: 2 people are deactivated "
                "(shown as left in the directory)."
            )
            expect(page.locator("main")).to_contain_text("No deactivations are held.")
            expect(nav.get_by_role("link", name="Held deactivations")).to_have_count(0)
            looked_at(page, "hr-deactivations-decided")
        finally:
            browser.close()
    assert _held(service) == []
    assert console.unexpected() == []


def test_without_script_hr_keeps_the_wave_active_after_a_page_that_names_them(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    s, _ids, held = _wave(service)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            # The page that asks, looked at (axe needs script: the dialog is taken away).
            looks = _hr(browser, service, s)
            looks.goto(f"{service.base}/deactivations")
            looks.locator("form[action$='/keep']").evaluate("f => delete f.dataset.confirm")
            looks.get_by_role("button", name="Keep 2 people active").click()
            expect(looks.get_by_role("heading", level=1)).to_have_text("Keep 2 people active?")
            looked_at(looks, "hr-deactivations-confirm")

            page = _hr(browser, service, s, script=False)
            page.goto(f"{service.base}/deactivations")
            page.get_by_role("button", name="Keep 2 people active").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Keep 2 people active?")
            for name in held:
                expect(page.get_by_role("listitem").filter(has_text=name)).to_be_visible()
            page.get_by_role("link", name="Cancel, decide later").click()
            assert len(_held(service)) == 2

            page.get_by_role("button", name="Keep 2 people active").click()
            page.get_by_role("button", name="Keep 2 people active").click()
            expect(page.get_by_role("status")).to_have_text(
                "Your decision is recorded: 2 people stay active."
            )
        finally:
            browser.close()
    assert _held(service) == []


def test_a_wave_that_grew_since_the_page_was_shown_is_not_decided(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import expect, sync_playwright

    s, ids, _names = _wave(service)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = _hr(browser, service, s)
            page.goto(f"{service.base}/deactivations")
            # Meanwhile the provider asks for one more: it joins the held wave.
            assert _deactivate(service, ids["eli"]) == 202
            page.get_by_role("button", name="Deactivate 2 people").click()
            confirm(page)
            summary = page.locator("#error-summary")
            expect(summary).to_be_focused()
            expect(summary).to_contain_text("changed since you opened this page")
            assert page.title().startswith("Error:")
            # The page now shows all three, and nobody was deactivated.
            expect(page.get_by_role("table", name="3 held deactivations")).to_contain_text(
                f"Eli Held {s}"
            )
            looked_at(page, "hr-deactivations-changed")
        finally:
            browser.close()
    assert [h["person"]["active"] for h in _held(service)] == [True, True, True]
