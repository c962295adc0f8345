"""The web app in a real browser (Playwright driving Debian's chromium) against a real
`crafting serve`, on SQLite and PostgreSQL: sign in with a link, read, withdraw (a
double click records once), a stale page, another's agreement, sign out — and axe
finds no serious or critical accessibility problem on any page shown."""

from __future__ import annotations

from datetime import timedelta

import httpx

from api.graphql.ids import agreement_uuid
from api.http.auth import mint_token
from domain.values import Role
from tests.browser.conftest import Service
from tests.browser.pages import accessible, confirm
from tests.conftest import database_url  # noqa: F401  (the journeys run on both stores)


def _scene(service: Service) -> dict[str, str]:
    s, ids = service.team("mgr", "emp", "other")
    ids["hr"] = f"hr-{s}"

    def propose(employee: str, title: str) -> str:
        agreement = service.gql(
            employee,
            Role.EMPLOYEE,
            "proposeAgreement",
            "ProposeAgreementInput",
            "agreement { id }",
            title=title,
            careerGoal={"targetRole": "Product manager", "skills": ["roadmapping"]},
            adjustments=[{"kind": "TASK", "description": "Write a brief", "hoursPerWeek": 1}],
        )["agreement"]
        return str(agreement_uuid(agreement["id"]))

    ids["mine"] = propose(ids["emp"], "Tester to product manager")
    ids["theirs"] = propose(ids["other"], "Someone else's plan")
    service.gql(
        ids["mgr"],
        Role.MANAGER,
        "approveAgreement",
        "ApproveAgreementInput",
        "agreement { version }",
        agreementId=ids["mine"],
        guardrails={"maxDevelopmentHoursPerWeek": 4, "reviewEveryDays": 14},
    )
    return ids


def test_an_employee_signs_in_reads_withdraws_and_signs_out(
    chromium: str, service: Service
) -> None:
    from playwright.sync_api import Route, expect, sync_playwright

    ids = _scene(service)
    problems: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            context = browser.new_context()
            page = context.new_page()
            # No inline code means no CSP violation, htmx included.
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

            page.goto(f"{service.base}/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            # E-mail sign-in first; the operator's link for who has no address, one click on.
            page.get_by_text("No e-mail address in the directory?").click()
            expect(page.get_by_text("crafting login-link --sub")).to_be_visible()
            accessible(page)

            link = service.link(ids["emp"])
            page.goto(link)
            # The link names the person it signs in: their name in the directory.
            expect(
                page.get_by_role("heading", name=f"Sign in as {ids['emp'].title()}?")
            ).to_be_visible()
            accessible(page)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="My agreements")).to_be_visible()
            assert page.evaluate("typeof htmx") == "object"  # the vendored file loaded
            expect(page.get_by_role("link", name="Tester to product manager")).to_be_visible()
            expect(page.get_by_text("Someone else's plan")).to_have_count(0)
            accessible(page)

            # The link is spent: another browser cannot use it.
            other = browser.new_context().new_page()
            other.goto(link)
            expect(other.get_by_role("heading", name="This sign-in link was already used"))
            expect(other.get_by_role("button", name="Sign in")).to_have_count(0)

            page.get_by_role("link", name="Tester to product manager").click()
            expect(page.get_by_role("heading", name="Tester to product manager")).to_be_visible()
            expect(page.get_by_text("Write a brief")).to_be_visible()
            accessible(page)

            # The manager pauses it while the page is open: the form is stale.
            paused = service.gql(
                ids["mgr"],
                Role.MANAGER,
                "pauseAgreement",
                "AgreementCommandInput",
                "agreement { version }",
                agreementId=ids["mine"],
                reason="Release crunch",
            )["agreement"]["version"]
            page.get_by_label("Reason (required)").fill("Moving to another team")
            page.get_by_role("button", name="Withdraw").click()
            confirm(page)
            expect(page.get_by_role("alert")).to_contain_text(
                "This agreement changed since you opened it"
            )
            accessible(page)

            # The reason is required: the error sits by its field.
            page.reload()
            page.get_by_role("button", name="Withdraw").click()
            confirm(page)
            expect(page.locator("#withdraw-reason-error")).to_have_text(
                "A reason is required for this action."
            )
            expect(page.get_by_label("Reason (required)")).to_have_attribute("aria-invalid", "true")
            accessible(page)

            # The form reaches the server twice (a double click, a retried request: the
            # route sends it twice and answers with the second); the idempotency key
            # rendered into the form records it once.
            def twice(route: Route) -> None:
                route.fetch(max_redirects=0)
                route.fulfill(response=route.fetch(max_redirects=0))

            page.route("**/withdraw", twice)
            page.get_by_label("Reason (required)").fill("Moving to another team")
            page.get_by_role("button", name="Withdraw").click()
            page.locator("#confirm-go").dblclick()
            expect(page.get_by_role("status")).to_have_text("Your change is recorded.")
            expect(page.get_by_text("withdrawn", exact=True)).to_be_visible()
            expect(page.get_by_role("alert")).to_have_count(0)
            hr = mint_token(service.secret, ids["hr"], [Role.HR], timedelta(minutes=5))
            body = httpx.post(
                f"{service.base}/graphql",
                json={
                    "query": "query($id: ID!) { agreement(id: $id) { version status } }",
                    "variables": {"id": ids["mine"]},
                },
                headers={"Authorization": f"Bearer {hr}"},
            ).json()
            assert body["data"]["agreement"] == {"version": paused + 1, "status": "WITHDRAWN"}

            # Someone else's agreement is as absent as one that does not exist.
            response = page.goto(f"{service.base}/agreements/{ids['theirs']}")
            assert response is not None and response.status == 404
            expect(page.get_by_role("heading", name="Not found")).to_be_visible()
            accessible(page)

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_text("You are signed out.")).to_be_visible()
            page.goto(f"{service.base}/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        finally:
            browser.close()
    # Browsers report CSP violations ("Refused to …") as console errors; the pages
    # answered 404, 409 and 422 on purpose above.
    responded = "Failed to load resource: the server responded with a status of 4"
    assert [p for p in problems if not p.startswith(responded)] == []
