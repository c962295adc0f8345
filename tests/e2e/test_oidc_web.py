"""Web sign-in through a real OpenID provider, the browser played by HTTP clients: the
code flow ends in our usual session; a wrong state, a wrong nonce, a wrong PKCE
verifier, a person with no role of ours and a provider that is down are clear pages,
never a session; signing out continues at the provider's end-session page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import jwt
import pytest

from api.web.oidc import FLOW_AUDIENCE, FLOW_COOKIE
from api.web.sessions import COOKIE
from domain.values import Role
from tests.e2e.conftest import Api, serving
from tests.oidc import WEB_CLIENT, Provider, sign_in_at_provider

PUBLIC = "http://127.0.0.1:1"  # what the session provider's web client redirects to


@pytest.fixture
def web(prepared_database_url: str, oidc_provider: Provider) -> Iterator[Api]:
    with serving(prepared_database_url, public_url=PUBLIC, **oidc_provider.settings()) as served:
        yield served


def _start(api: Api) -> str:
    """GET /oidc/login: the provider's authorization URL (the flow cookie is kept)."""
    response = api.client.get("/oidc/login", follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def _back(api: Api, callback: str) -> object:
    parts = urlsplit(callback)
    return api.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def _person(provider: Provider, *roles: Role) -> str:
    login = f"emp-{uuid4().hex[:8]}"
    provider.person_token(login, *roles)  # registers the account and its groups
    return login


def _forge_flow(api: Api, **changed: str) -> None:
    """Re-sign the flow cookie with a value changed (what only we could do)."""
    (cookie,) = [c for c in api.client.cookies.jar if c.name == FLOW_COOKIE]
    claims = jwt.decode(cookie.value, api.secret, algorithms=["HS256"], audience=FLOW_AUDIENCE)
    cookie.value = jwt.encode(claims | changed, api.secret, algorithm="HS256")


def test_the_code_flow_asks_for_pkce_state_and_nonce(web: Api) -> None:
    query = parse_qs(urlsplit(_start(web)).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [WEB_CLIENT]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == [f"{PUBLIC}/oidc/callback"]


def test_signing_in_at_the_provider_starts_our_session(web: Api, oidc_provider: Provider) -> None:
    login = _person(oidc_provider, Role.EMPLOYEE, Role.MANAGER)
    callback = sign_in_at_provider(_start(web), login, PUBLIC)
    response = _back(web, callback)
    # A manager lands on the inbox, where their work is.
    assert response.status_code == 303 and response.headers["location"] == "/inbox"  # type: ignore[attr-defined]
    page = web.client.get("/")
    # Not in the directory: who they are by role (the session below names them).
    assert page.status_code == 200 and "Signed in as a manager and an employee" in page.text
    session = jwt.decode(
        web.client.cookies.get(COOKIE),
        web.secret,
        algorithms=["HS256"],
        audience="crafting:web-session",
    )
    # Only what the app needs: who, roles, clocks, and that the provider signed them in.
    assert set(session) == {"sub", "roles", "aud", "jti", "iat", "seen", "exp", "idp"}
    assert session["roles"] == ["EMPLOYEE", "MANAGER"]
    # The callback cannot be used twice (the flow cookie is gone, the code spent).
    assert _back(web, callback).status_code == 400  # type: ignore[attr-defined]


def test_signing_out_ends_the_session_at_the_provider_too(
    web: Api, oidc_provider: Provider
) -> None:
    login = _person(oidc_provider, Role.EMPLOYEE)
    _back(web, sign_in_at_provider(_start(web), login, PUBLIC))
    page = web.client.get("/")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = web.client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert (
        f"{target.scheme}://{target.netloc}{target.path}" == f"{oidc_provider.issuer}/session/end"
    )
    assert parse_qs(target.query) == {
        "client_id": [WEB_CLIENT],
        "post_logout_redirect_uri": [f"{PUBLIC}/signin?signed_out=1"],
    }
    assert web.client.get("/", follow_redirects=False).status_code == 303  # signed out here
    # Every page may send its forms to the provider (the sign-out redirect), nowhere else.
    csp = page.headers["content-security-policy"]
    assert f"form-action 'self' {oidc_provider.issuer};" in csp


def test_a_callback_with_another_state_is_refused(web: Api, oidc_provider: Provider) -> None:
    callback = sign_in_at_provider(_start(web), _person(oidc_provider, Role.EMPLOYEE), PUBLIC)
    _forge_flow(web, state="another-state-another-state-another")
    response = _back(web, callback)
    assert response.status_code == 400 and "expired" in response.text  # type: ignore[attr-defined]
    assert COOKIE not in web.client.cookies


def test_an_id_token_with_another_nonce_is_refused(web: Api, oidc_provider: Provider) -> None:
    callback = sign_in_at_provider(_start(web), _person(oidc_provider, Role.EMPLOYEE), PUBLIC)
    _forge_flow(web, nonce="not-the-nonce-the-provider-put-in-the-token")
    response = _back(web, callback)
    assert response.status_code == 400 and "did not work" in response.text  # type: ignore[attr-defined]
    assert COOKIE not in web.client.cookies


def test_a_code_redeemed_with_another_pkce_verifier_is_refused(
    web: Api, oidc_provider: Provider
) -> None:
    callback = sign_in_at_provider(_start(web), _person(oidc_provider, Role.EMPLOYEE), PUBLIC)
    _forge_flow(web, cv="x" * 43)
    response = _back(web, callback)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert COOKIE not in web.client.cookies


def test_a_person_with_no_role_of_ours_gets_a_clear_page(web: Api, oidc_provider: Provider) -> None:
    callback = sign_in_at_provider(_start(web), _person(oidc_provider), PUBLIC)
    response = _back(web, callback)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "maps to none of our roles" in response.text  # type: ignore[attr-defined]
    assert COOKIE not in web.client.cookies


def test_the_sign_in_page_offers_the_provider(web: Api) -> None:
    page = web.client.get("/signin")
    assert 'href="/oidc/login">Sign in with Test IdP</a>' in page.text


def test_a_provider_that_is_down_is_a_clear_page(
    prepared_database_url: str, own_provider: Provider
) -> None:
    own_provider.stop()
    with serving(prepared_database_url, public_url=PUBLIC, **own_provider.settings()) as api:
        response = api.client.get("/oidc/login", follow_redirects=False)
        assert response.status_code == 503
        assert "The identity provider does not answer" in response.text
        # A flow cookie from before, then a callback while the provider is down.
        flow = {"state": "s" * 32, "nonce": "n" * 32, "cv": "c" * 43, "aud": FLOW_AUDIENCE}
        flow["exp"] = datetime.now(UTC) + timedelta(minutes=5)  # type: ignore[assignment]
        api.client.cookies.set(
            FLOW_COOKIE, jwt.encode(flow, api.secret), domain="testserver.local", path="/oidc"
        )
        callback = api.client.get(f"/oidc/callback?code=x&state={'s' * 32}")
        assert callback.status_code == 503 and "does not answer" in callback.text
