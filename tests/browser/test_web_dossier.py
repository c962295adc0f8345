"""The promotion dossier's button in a real browser against a real `crafting serve`: the
employee, their manager and HR see it on the agreement page (axe clean, no sideways
scroll at 320 and 1280 px), it works by keyboard, and the PDF it downloads verifies
offline; its first page is the README's picture (rendered by poppler's pdftoppm)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.auth import mint_token
from domain.dossier.check import check_dossier, read_pdf
from domain.values import Role
from infra.signing import new_private_key, public_key_b64
from tests.browser.conftest import Service
from tests.browser.pages import Console, accessible

pytestmark = pytest.mark.pdf  # skipped without pango, except in CI

KEY = new_private_key()  # the service's signing key: the test checks the PDF against it
BUTTON = "Download the promotion dossier (PDF)"


@pytest.fixture
def service_variables() -> dict[str, str]:
    return {"CRAFTING_SIGNING_KEY": KEY}


def _public_key() -> str:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return public_key_b64(Ed25519PrivateKey.from_private_bytes(base64.b64decode(KEY)))


def _scene(service: Service) -> dict[str, str]:
    names = {"mgr": "Morgan Manager", "emp": "Erin Tester"}
    s, ids = service.team(*names, names=names)
    ids["hr"] = f"hr-{s}"
    title = f"Tester to product manager {s}"
    ids["aid"] = service.approved(ids["emp"], ids["mgr"], title, hours=2, most=4)
    # Service.gql takes the input's fields as keywords, and `kind` is one of its own.
    token = mint_token(service.secret, ids["emp"], [Role.EMPLOYEE], timedelta(minutes=5))
    recorded = httpx.post(
        f"{service.base}/graphql",
        json={
            "query": "mutation($input: RecordArtifactInput!) { recordArtifact(input: $input) "
            "{ userErrors { code } } }",
            "variables": {
                "input": {
                    "agreementId": ids["aid"],
                    "title": "Feature brief: bulk export",
                    "kind": "BRIEF",
                    "skills": ["roadmapping"],
                }
            },
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert recorded.json()["data"]["recordArtifact"]["userErrors"] == [], recorded.text
    return ids


def _overflow(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def test_the_dossier_button_downloads_a_pdf_that_verifies(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _scene(service)
    console = Console()
    people = {
        "emp": (Role.EMPLOYEE,),
        "mgr": (Role.MANAGER, Role.EMPLOYEE),
        "hr": (Role.HR,),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            for who, roles in people.items():
                for width in (320, 1280):
                    context = browser.new_context(
                        viewport={"width": width, "height": 900}, accept_downloads=True
                    )
                    page = console.watch(context.new_page())
                    page.goto(service.link(ids[who], *roles))
                    page.get_by_role("button", name="Sign in").click()
                    page.goto(f"{service.base}/agreements/{ids['aid']}")
                    button = page.get_by_role("button", name=BUTTON)
                    expect(button).to_be_visible()
                    expect(page.get_by_role("heading", name="Promotion dossier")).to_be_visible()
                    accessible(page)
                    assert _overflow(page) == 0, (who, width)
                    page.locator("#dossier-heading").scroll_into_view_if_needed()
                    page.screenshot(path=tmp_path / f"dossier-button-{who}-{width}.png")
                    with page.expect_download(timeout=60_000) as waiting:
                        if width == 320:  # by keyboard: focus it, press Enter
                            button.focus()
                            page.keyboard.press("Enter")
                        else:
                            button.click()
                    download = waiting.value
                    assert download.suggested_filename.startswith("dossier-")
                    pdf = Path(download.path()).read_bytes()
                    outcome = check_dossier(*read_pdf(pdf), _public_key())
                    assert outcome.ok, outcome.problems
                    (tmp_path / f"{who}.pdf").write_bytes(pdf)
                    context.close()
            # Someone else's manager sees no button (and no agreement).
            other = console.watch(browser.new_context().new_page())
            other.goto(service.link(f"stranger-{ids['aid'][:8]}", Role.EMPLOYEE))
            other.get_by_role("button", name="Sign in").click()
            other.goto(f"{service.base}/agreements/{ids['aid']}")
            expect(other.get_by_role("button", name=BUTTON)).to_have_count(0)
        finally:
            browser.close()
    assert console.unexpected() == []
    first_page(tmp_path / "emp.pdf", tmp_path)


def first_page(pdf: Path, folder: Path) -> None:
    """The dossier's first page as `folder`/dossier.png (poppler's pdftoppm)."""
    if not shutil.which("pdftoppm"):
        if os.environ.get("CRAFTING_REQUIRE_TOOLS") == "1":
            pytest.fail("the dossier's picture needs pdftoppm (apt-get install poppler-utils)")
        return
    target = folder / "dossier"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(target),
        ],
        check=True,
    )
    assert (folder / "dossier.png").stat().st_size > 0


PERSON_BUTTON = "Download the promotion dossier of all"


def test_the_career_page_button_downloads_the_persons_dossier(
    chromium: str, service: Service, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ids = _scene(service)
    shots = Path(os.environ.get("CRAFTING_SCREENSHOTS", tmp_path))
    console = Console()
    visits = [  # (who, roles, width): each width once, each receiver once
        ("emp", (Role.EMPLOYEE,), 320),
        ("mgr", (Role.MANAGER, Role.EMPLOYEE), 390),
        ("hr", (Role.HR,), 1280),
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            for who, roles, width in visits:
                context = browser.new_context(
                    viewport={"width": width, "height": 900}, accept_downloads=True
                )
                page = console.watch(context.new_page())
                page.goto(service.link(ids[who], *roles))
                page.get_by_role("button", name="Sign in").click()
                page.goto(f"{service.base}/people/{ids['emp']}/career")
                button = page.get_by_role("button", name=re.compile(PERSON_BUTTON))
                expect(button).to_be_visible()
                accessible(page)
                page.screenshot(path=shots / f"person-dossier-{who}-{width}.png")
                assert _overflow(page) == 0, (who, width)
                with page.expect_download(timeout=60_000) as waiting:
                    if width == 320:  # by keyboard: focus it, press Enter
                        button.focus()
                        page.keyboard.press("Enter")
                    else:
                        button.click()
                download = waiting.value
                assert download.suggested_filename == f"dossier-person-{ids['emp']}.pdf"
                outcome = check_dossier(
                    *read_pdf(Path(download.path()).read_bytes()), _public_key()
                )
                assert outcome.ok, outcome.problems
                assert [f["agreementId"] for f in outcome.parts] == [ids["aid"]]
                context.close()
            # An auditor reads the career page but is issued no dossier: no button.
            auditor = console.watch(browser.new_context().new_page())
            auditor.goto(service.link(f"auditor-{ids['aid'][:8]}", Role.AUDITOR))
            auditor.get_by_role("button", name="Sign in").click()
            auditor.goto(f"{service.base}/people/{ids['emp']}/career")
            expect(
                auditor.get_by_role("heading", name=re.compile("Career evidence"))
            ).to_be_visible()
            expect(auditor.get_by_role("button", name=re.compile(PERSON_BUTTON))).to_have_count(0)
        finally:
            browser.close()
    assert console.unexpected() == []
