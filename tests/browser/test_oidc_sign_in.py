"""Signing in with the identity provider in a real browser (Playwright driving Debian's
chromium): a real `crafting serve` and a real OpenID provider (node-oidc-provider), its
own login and consent pages, "My agreements" as that person, then signing out here and
at the provider — and axe finds no serious problem on the sign-in page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import accessible
from tests.oidc import Provider, node
from tests.processes import eventually, free_port, get, running, service_env, start


@pytest.fixture
def signed_in_service(database_url: str, tmp_path: Path) -> Iterator[tuple[Service, Provider]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = Provider(node(), tmp_path, base).start()
    env = service_env(
        database_url,
        CRAFTING_SERVE_PROJECTIONS="true",
        CRAFTING_RATE_LIMIT_PER_SECOND="0",
        CRAFTING_PUBLIC_URL=base,
        **provider.environment(),
    )
    serve = start(["serve", "--port", str(port)], env, tmp_path / "serve")
    try:
        with running(serve):
            assert eventually(lambda: get(f"{base}/healthz")[0] == 200, 60), serve.output()
            yield Service(base, env["CRAFTING_JWT_SECRET"]), provider
        assert "Traceback" not in serve.output()
    finally:
        provider.stop()


def test_a_person_signs_in_with_the_provider_and_signs_out_there_too(
    chromium: str,
    signed_in_service: tuple[Service, Provider],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    service, provider = signed_in_service
    emp = service.team("mgr", "emp")[1]["emp"]
    service.gql(
        emp,
        Role.EMPLOYEE,
        "proposeAgreement",
        "ProposeAgreementInput",
        "agreement { id }",
        title="Tester to product manager",
        careerGoal={"targetRole": "Product manager", "skills": ["roadmapping"]},
        adjustments=[{"kind": "TASK", "description": "Write a brief", "hoursPerWeek": 1}],
    )
    provider.person_token(emp, Role.EMPLOYEE)  # the account, in the employees' group
    problems: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_context().new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(f"{service.base}/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            accessible(page)

            page.get_by_role("link", name="Sign in with Test IdP").click()
            # The provider's own pages (its development login and consent).
            page.locator("input[name=login]").fill(emp)
            page.locator("input[name=password]").fill("any password")
            page.get_by_role("button", name="Sign-in").click()
            page.get_by_role("button", name="Continue").click()

            expect(page.get_by_role("heading", name="My agreements")).to_be_visible()
            assert page.url == f"{service.base}/"
            expect(page.get_by_text(f"Signed in as {emp}")).to_be_visible()
            expect(page.get_by_role("link", name="Tester to product manager")).to_be_visible()
            accessible(page)

            page.get_by_role("button", name="Sign out").click()
            # The provider asks before ending its own session (RP-initiated logout).
            page.get_by_role("button", name="Yes, sign me out").click()
            expect(page.get_by_role("status")).to_have_text("You are signed out.")
            assert page.url == f"{service.base}/signin?signed_out=1"

            page.goto(f"{service.base}/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            # Signed out at the provider too: signing in again asks for the login.
            page.get_by_role("link", name="Sign in with Test IdP").click()
            expect(page.locator("input[name=login]")).to_be_visible()
        finally:
            browser.close()
    # Our pages and the redirects through them broke no Content-Security-Policy rule
    # (the provider's development pages load fonts from the internet: not ours).
    assert [p for p in problems if "Content Security Policy" in p] == [], problems
