"""The web app over HTTP (in-process, both databases): its headers and assets, sign-in
links and sessions, CSRF, the agreement pages and the withdraw form."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.graphql.ids import agreement_uuid
from api.web.assets import FOLDER
from api.web.headers import CONTENT_SECURITY_POLICY
from api.web.sessions import COOKIE, Session, cookie_value, mint_link
from domain.access import Actor
from domain.values import Role
from tests.e2e.conftest import Api, serving
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.web import CONFIRMED, browser, hidden_fields, sign_in
from tests.e2e.world import World

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
VERSION = "query($id: ID!) { agreement(id: $id) { version status } }"


def test_pages_carry_strict_security_headers_and_no_inline_code(api: Api) -> None:
    page = browser(api.client).get("/signin")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert "crafting login-link" in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)  # no inline script
    assert not re.search(r"<style|\sstyle=", page.text)  # no inline style
    # GraphQL is untouched by the web app's headers.
    assert "content-security-policy" not in api.client.get("/healthz").headers


def test_static_files_are_served_by_content_hash_for_a_year(api: Api) -> None:
    page = browser(api.client).get("/signin").text
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert len(urls) == 6  # icon, stylesheet, htmx, CSRF header, dialog, time zone scripts
    for url in urls:
        name, digest, ext = url.removeprefix("/static/").rsplit(".", 2)
        body = browser(api.client).get(url)
        assert body.status_code == 200
        assert body.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert hashlib.sha256(body.content).hexdigest().startswith(digest)
        assert body.content == (FOLDER / f"{name}.{ext}").read_bytes()
    htmx = Path(FOLDER / "htmx.min.js").read_bytes()
    assert hashlib.sha256(htmx).hexdigest() == HTMX_SHA256
    assert HTMX_SHA256 in (FOLDER / "README.md").read_text()
    stale = browser(api.client).get("/static/app.0000000000000000.css")
    assert stale.status_code == 404


def test_signed_out_pages_lead_to_the_sign_in_help(api: Api) -> None:
    world = World(api)
    aid = agreement_uuid(world.propose()["id"])
    for path in ("/", f"/agreements/{aid}"):
        response = browser(api.client).get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/signin"


def test_a_sign_in_link_works_once_and_only_by_post(api: Api) -> None:
    client = browser(api.client)
    link = mint_link(api.secret, "sam", [Role.EMPLOYEE])
    for _ in range(2):  # link scanners fetch links: a GET spends nothing
        confirm = client.get(f"/login/{link}")
        assert confirm.status_code == 200
        # sam is in no directory: the link says who by role (the id is in its details)
        assert "Sign in as an employee?" in confirm.text and "sam" in confirm.text
    cross_site = client.post(f"/login/{link}", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    assert COOKIE not in client.cookies
    first = client.post(f"/login/{link}")
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http (the embedded default on 127.0.0.1)
    again = browser(api.client).post(f"/login/{link}")
    assert again.status_code == 410
    assert "already used" in again.text
    assert browser(api.client).get(f"/login/{link}").status_code == 410


def test_the_session_cookie_is_secure_over_https(api: Api) -> None:
    client = browser(api.client, https=True)
    response = client.post(f"/login/{mint_link(api.secret, 'sam', [Role.EMPLOYEE])}")
    assert response.status_code == 303
    assert "secure" in response.headers["set-cookie"].lower()


def test_links_and_api_tokens_are_not_interchangeable(api: Api) -> None:
    link = mint_link(api.secret, "sam", [Role.HR])
    as_bearer = api.post("{ __typename }", token=link)
    assert as_bearer.status_code == 401
    token = api.token("sam", Role.HR)
    assert browser(api.client).post(f"/login/{token}").status_code == 400
    expired = mint_link(api.secret, "sam", [Role.HR], datetime.now(UTC) - timedelta(minutes=11))
    response = browser(api.client).get(f"/login/{expired}")
    assert response.status_code == 400
    assert "not valid" in response.text
    forged = mint_link("another-secret-" + "x" * 40, "sam", [Role.HR])
    assert browser(api.client).post(f"/login/{forged}").status_code == 400
    assert browser(api.client).get("/login/not-a-token").status_code == 400


def test_a_session_ends_when_idle_or_past_its_lifetime(api: Api) -> None:
    now = datetime.now(UTC)
    actor = Actor("sam", frozenset({Role.EMPLOYEE}))
    for started, seen, shown in (
        (now - timedelta(minutes=40), now - timedelta(minutes=29), True),
        (now - timedelta(minutes=40), now - timedelta(minutes=31), False),  # idle 30 min
        (now - timedelta(hours=13), now - timedelta(minutes=1), False),  # 12 h at most
    ):
        client = browser(api.client)
        value = cookie_value(api.secret, Session(actor, "s-" + str(seen), started, seen))
        client.cookies.set(COOKIE, value)
        response = client.get("/")
        assert (response.status_code == 200) is shown, (started, seen)
        if shown:  # the idle clock restarts: the cookie is issued again
            assert COOKIE in response.headers["set-cookie"]
        else:
            assert response.headers["location"] == "/signin"


def test_my_agreements_and_one_agreement(api: Api) -> None:
    world = World(api)
    mine = world.active()
    theirs = world.propose(world.stranger)
    world.sync()
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    listing = employee.get("/")
    assert listing.status_code == 200
    aid = agreement_uuid(mine["id"])
    assert f'href="/agreements/{aid}"' in listing.text
    assert str(agreement_uuid(theirs["id"])) not in listing.text
    assert f"Signed in as {world.ids['emp'].title()}" in listing.text  # the directory's name
    detail = employee.get(f"/agreements/{aid}")
    assert detail.status_code == 200
    for shown in ("Tester to product manager", "Product manager", "Write one feature brief"):
        assert shown in detail.text
    assert "Release sign-off" in detail.text and "active" in detail.text
    # Another's agreement, one that does not exist, and a malformed id: the same 404.
    missing = [
        employee.get(f"/agreements/{agreement_uuid(theirs['id'])}"),
        employee.get("/agreements/00000000-0000-4000-8000-000000000000"),
        employee.get("/agreements/not-an-id"),
    ]
    assert {r.status_code for r in missing} == {404}
    assert len({r.text for r in missing}) == 1
    # Their manager reads it, as in GraphQL.
    manager = sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    assert manager.get(f"/agreements/{aid}").status_code == 200
    assert "Withdraw" not in manager.get(f"/agreements/{aid}").text


def _withdraw_form(api: Api) -> tuple[World, object, str, dict[str, str]]:
    world = World(api)
    agreement = world.active()
    world.sync()
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    aid = str(agreement_uuid(agreement["id"]))
    page = employee.get(f"/agreements/{aid}").text
    return world, employee, aid, hidden_fields(page, f"/agreements/{aid}/withdraw")


def test_withdraw_records_once_per_rendered_form(api: Api) -> None:
    world, employee, aid, fields = _withdraw_form(api)
    assert set(fields) == {"csrf_token", "idempotency_key", "expected_version"}
    before = api.data(world.hr, VERSION, id=aid)["agreement"]["version"]
    sent = fields | {"reason": "Moving to another team"} | CONFIRMED
    first = employee.post(f"/agreements/{aid}/withdraw", data=sent)  # type: ignore[attr-defined]
    second = employee.post(f"/agreements/{aid}/withdraw", data=sent)  # type: ignore[attr-defined]
    assert first.status_code == second.status_code == 303
    # The page it leads to waits until the read models show the write; GraphQL reads
    # them as they are, so it is asked after.
    shown = employee.get(first.headers["location"])  # type: ignore[attr-defined]
    assert "withdrawn" in shown.text and "Your change is recorded" in shown.text
    assert "Withdraw this agreement" not in shown.text
    after = api.data(world.hr, VERSION, id=aid)["agreement"]
    assert after == {"version": before + 1, "status": "WITHDRAWN"}


def test_withdrawing_without_script_is_asked_on_a_page_first(api: Api) -> None:
    world, employee, aid, fields = _withdraw_form(api)
    url = f"/agreements/{aid}/withdraw"
    asked = employee.post(url, data=fields | {"reason": "Moving on"})  # type: ignore[attr-defined]
    assert asked.status_code == 200
    assert "Withdraw “" in asked.text and "cannot be reopened" in asked.text
    assert api.data(world.hr, VERSION, id=aid)["agreement"]["status"] == "ACTIVE"
    confirmed = hidden_fields(asked.text, url)
    assert confirmed["confirmed"] == "yes" and confirmed["reason"] == "Moving on"
    done = employee.post(url, data=confirmed)  # type: ignore[attr-defined]
    assert done.status_code == 303
    # The page it leads to waits until the read models show the write (then GraphQL does).
    assert "Your change is recorded." in employee.get(done.headers["location"]).text  # type: ignore[attr-defined]
    assert api.data(world.hr, VERSION, id=aid)["agreement"]["status"] == "WITHDRAWN"


def test_withdraw_errors_show_next_to_their_field(api: Api) -> None:
    _, employee, aid, fields = _withdraw_form(api)
    response = employee.post(
        f"/agreements/{aid}/withdraw", data=fields | {"reason": " "} | CONFIRMED
    )  # type: ignore[attr-defined]
    assert response.status_code == 422
    assert 'aria-describedby="withdraw-reason-error"' in response.text
    assert re.search(r'id="withdraw-reason-error">A reason is required', response.text)


def test_a_stale_page_is_told_the_agreement_changed(api: Api) -> None:
    world, employee, aid, fields = _withdraw_form(api)
    api.data(
        world.manager,
        """mutation($id: ID!) { pauseAgreement(input: {agreementId: $id, reason: "Crunch"}) {
        userErrors { code } } }""",
        id=aid,
    )
    response = employee.post(  # type: ignore[attr-defined]
        f"/agreements/{aid}/withdraw", data=fields | {"reason": "Moving on"} | CONFIRMED
    )
    assert response.status_code == 409
    assert "This agreement changed since you opened it" in response.text
    assert api.data(world.hr, VERSION, id=aid)["agreement"]["status"] == "PAUSED"


def test_unsafe_requests_need_the_sessions_csrf_token(api: Api) -> None:
    world, employee, aid, fields = _withdraw_form(api)
    url, reason = f"/agreements/{aid}/withdraw", {"reason": "Moving on"} | CONFIRMED
    other = sign_in(api.client, api.secret, "someone-else", Role.EMPLOYEE)
    foreign_token = hidden_fields(other.get("/").text, "/logout")["csrf_token"]
    for sent in (
        {k: v for k, v in fields.items() if k != "csrf_token"},
        fields | {"csrf_token": "0" * 64},
        fields | {"csrf_token": foreign_token},  # another session's token
    ):
        refused = employee.post(url, data=sent | reason)  # type: ignore[attr-defined]
        assert refused.status_code == 403
        assert "This form has expired" in refused.text
    cross = employee.post(url, data=fields | reason, headers={"Origin": "https://evil.example"})  # type: ignore[attr-defined]
    assert cross.status_code == 403
    assert api.data(world.hr, VERSION, id=aid)["agreement"]["status"] == "ACTIVE"
    # htmx sends the token as a header (csrf.js, from the page's meta tag).
    token = fields.pop("csrf_token")
    page = employee.get(f"/agreements/{aid}").text  # type: ignore[attr-defined]
    assert f'<meta name="csrf-token" content="{token}">' in page
    accepted = employee.post(url, data=fields | reason, headers={"X-CSRF-Token": token})  # type: ignore[attr-defined]
    assert accepted.status_code == 303


def test_sign_out_ends_the_session_for_every_copy_of_its_cookie(api: Api) -> None:
    client = sign_in(api.client, api.secret, "sam", Role.EMPLOYEE)
    copy = browser(api.client)
    copy.cookies.set(COOKIE, client.cookies[COOKIE])
    token = hidden_fields(client.get("/").text, "/logout")["csrf_token"]
    assert client.post("/logout").status_code == 403  # no token
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/signin?signed_out=1"
    assert (
        'crafting_session=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )
    assert copy.get("/").status_code == 303
    assert "You are signed out" in copy.get("/signin?signed_out=1").text


def test_unknown_web_paths_get_the_not_found_page(api: Api) -> None:
    response = browser(api.client).get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.text
    assert response.headers["x-frame-options"] == "DENY"


def test_a_malformed_form_is_a_clean_400(api: Api) -> None:
    client = sign_in(api.client, api.secret, "sam", Role.EMPLOYEE)
    response = client.post(
        "/logout",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 400
    assert "This did not work" in response.text and "Traceback" not in response.text


def test_a_person_or_address_over_the_rate_limit_gets_a_429_page(tmp_path: Path) -> None:
    """The pages share GraphQL's budget per person, and sign-in attempts have one per
    client address: a script hammering either gets 429 with Retry-After, others go on."""
    with serving(
        f"sqlite:///{tmp_path}/crafting.db", rate_limit_per_second=0.5, rate_limit_burst=3
    ) as limited:
        greedy = sign_in(limited.client, limited.secret, "greedy", Role.EMPLOYEE)
        assert [greedy.get("/").status_code for _ in range(3)] == [200, 200, 200]
        refused = greedy.get("/")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "Too many requests" in refused.text
        assert "content-security-policy" in refused.headers  # still one of our pages
        assert sign_in(limited.client, limited.secret, "polite", Role.EMPLOYEE).get("/").is_success
        # Sign-in posts from one address (the test client's) are limited too.
        anyone = browser(limited.client)
        posts = [anyone.post("/login/not-a-link").status_code for _ in range(4)]
        assert posts[-1] == 429, posts


def test_the_navigation_offers_only_what_the_person_may_open(api: Api) -> None:
    """Career evidence for people in the directory (others have none: a 404), team
    workload for everyone who may read it (auditors too), the inbox for managers and HR."""
    world = World(api)
    nav = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)

    def links(person: str, *roles: Role) -> str:
        page = sign_in(api.client, api.secret, person, *roles).get("/")
        found = nav.search(page.text)
        assert found is not None
        return found.group(1)

    employee = links(world.ids["emp"], Role.EMPLOYEE)
    assert "Career evidence" in employee
    assert "Team workload" not in employee and "Inbox" not in employee
    auditor = links(f"auditor-{world.s}", Role.AUDITOR)
    assert "Career evidence" not in auditor and "Inbox" not in auditor
    assert "Team workload" in auditor and "Audit log" in auditor
    manager = links(world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    assert "Inbox" in manager and "Team workload" in manager


def _hops_from_the_web_app(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every trip off the event loop the web app's own modules make, by the function
    that made it, as they happen."""
    made: list[str] = []
    original = asyncio.to_thread

    async def counted(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1)
        if "/api/web/" in caller.f_code.co_filename:
            made.append(caller.f_code.co_name)
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    return made


def test_a_signed_in_page_checks_its_session_in_one_trip_and_pages_share_the_check(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Signed out or not, and what the header shows, are read together: one worker-thread
    # trip per request for the session (alone, or with the page's own read in the same
    # transaction: `session_reading`), whatever the page reads besides.
    world = World(api)
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    hops = _hops_from_the_web_app(monkeypatch)
    for path in ("/", "/notifications", "/notifications/settings", "/agreements/new"):
        hops.clear()
        page = employee.get(path)
        assert page.status_code == 200, path
        assert hops.count("session") + hops.count("session_reading") == 1, (path, hops)
    # Without a session, the one check sends every page to sign-in, reading nothing.
    hops.clear()
    for path in ("/", "/notifications", "/notifications/settings", "/agreements/new", "/inbox"):
        assert browser(api.client).get(path).headers["location"] == "/signin", path
    assert hops == []
