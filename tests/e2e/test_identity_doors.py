"""Who a caller is, at every front door, through a real OpenID provider: ids outside
the person-id rule (a NUL, a direction override, a look-alike letter) are refused before
anything is recorded, and signing in by e-mail needs a verified, unique, ASCII-equal
address (never `str.lower()` of a look-alike)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import jwt
import pytest

from api.http.auth import ALGORITHM
from api.web.sessions import COOKIE, LOGIN_AUDIENCE, SESSION_AUDIENCE
from domain.values import Role
from tests.e2e.conftest import Api, serving
from tests.oidc import GROUP_OF, Provider, sign_in_at_provider

VIEWER = "{ viewer { id roles } }"
UPSERT = """mutation($input: UpsertPeopleInput!) { upsertPeople(input: $input) {
  position userErrors { code message } } }"""
AUDIT = "{ auditLog(first: 100) { edges { node { actorId type } } } }"
PUBLIC = "http://127.0.0.1:1"
BAD_IDS = {
    "NUL": "hr\u0000x",
    "right-to-left override": "hr\u202ex",
    "Cyrillic a": "kofi-mens\u0430h",
    "space": "hr x",
}


def _people(*people: tuple[str, str]) -> dict[str, Any]:
    return {
        "people": [
            {
                "id": pid,
                "displayName": pid,
                "email": address,
                "teamId": "t",
                "contractedHoursPerWeek": 40,
            }
            for pid, address in people
        ]
    }


def _caught_up(api: Api, token: str) -> None:
    api.data(
        token,
        "query($p: Int) { agreements(first: 0, consistentWith: $p) { edges { cursor } } }",
        p=api.position(),
    )


@pytest.fixture(scope="module")
def oidc_api(module_database_url: str, oidc_provider: Provider) -> Iterator[Api]:
    """Shared by the module's tests (each makes its own people: tests.e2e.shared)."""
    with serving(module_database_url, **oidc_provider.settings()) as served:
        yield served


@pytest.mark.parametrize("case", BAD_IDS)
def test_a_provider_token_naming_a_bad_id_records_nothing(
    oidc_api: Api, oidc_provider: Provider, case: str
) -> None:
    token = oidc_provider.person_token(BAD_IDS[case], Role.HR)
    before = oidc_api.position()
    response = oidc_api.post(
        UPSERT, {"input": _people((f"p-{uuid4().hex[:6]}", "p@example.com"))}, token=token
    )
    assert response.status_code == 403, response.text
    assert "not a person id we accept" in response.json()["detail"]
    scim = oidc_api.client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
    assert scim.status_code == 403 and "not a person id" in scim.json()["detail"]
    assert oidc_api.position() == before
    # The same request under a good id is recorded: it is the id that was refused.
    good = oidc_provider.person_token(f"hr-{uuid4().hex[:6]}", Role.HR)
    assert (
        oidc_api.post(
            UPSERT, {"input": _people((f"p-{uuid4().hex[:6]}", "p@example.com"))}, token=good
        ).json()["data"]["upsertPeople"]["userErrors"]
        == []
    )
    assert oidc_api.position() > before


@pytest.mark.parametrize("case", BAD_IDS)
def test_our_own_tokens_links_and_sessions_naming_a_bad_id_are_refused(
    oidc_api: Api, case: str
) -> None:
    oidc_api.client.cookies.clear()  # the module's tests share the service and its client
    now = datetime.now(UTC)
    claims = {"sub": BAD_IDS[case], "roles": ["HR"], "iat": now, "exp": now + timedelta(hours=1)}
    token = jwt.encode(claims, oidc_api.secret, algorithm=ALGORITHM)
    assert oidc_api.post(VIEWER, token=token).status_code == 401
    link = jwt.encode(
        claims | {"aud": LOGIN_AUDIENCE, "jti": uuid4().hex}, oidc_api.secret, algorithm=ALGORITHM
    )
    signed_in = oidc_api.client.get(f"/login/{link}", follow_redirects=False)
    assert signed_in.status_code >= 400 and COOKIE not in oidc_api.client.cookies
    session = jwt.encode(
        claims | {"aud": SESSION_AUDIENCE, "jti": uuid4().hex, "seen": int(now.timestamp())},
        oidc_api.secret,
        algorithm=ALGORITHM,
    )
    oidc_api.client.cookies.set(COOKIE, session)
    page = oidc_api.client.get("/", follow_redirects=False)
    assert page.status_code == 303 and urlsplit(page.headers["location"]).path == "/signin"


def test_signing_in_by_email_needs_a_verified_address_that_names_one_person(
    prepared_database_url: str, oidc_provider: Provider
) -> None:
    with serving(prepared_database_url, **oidc_provider.settings(oidc_person_claim="email")) as api:
        tag = uuid4().hex[:6]
        kofi, twin_a, twin_b = f"kofi-mensah-{tag}", f"twin-a-{tag}", f"twin-b-{tag}"
        hr = api.token("hr", Role.HR)  # ours, HS256: setting the scene
        upserted = api.data(
            hr,
            UPSERT,
            input=_people(
                (kofi, f"kofi-mensah-{tag}@example.com"),
                (twin_a, f"twin-{tag}@example.com"),
                (twin_b, f"Twin-{tag}@Example.com"),
            ),
        )
        assert upserted["upsertPeople"]["userErrors"] == []
        _caught_up(api, hr)

        def caller(address: str, verified: object = True) -> Any:
            token = oidc_provider.person_token(
                f"uid-{uuid4().hex[:6]}", Role.EMPLOYEE, email=address, email_verified=verified
            )
            return api.post(VIEWER, token=token)

        ok = caller(f"KOFI-Mensah-{tag}@example.com")
        assert ok.status_code == 200 and ok.json()["data"]["viewer"]["id"] == kofi
        unverified = caller(f"kofi-mensah-{tag}@example.com", False)
        assert unverified.status_code == 403 and "not verified" in unverified.json()["detail"]
        kelvin = caller(f"\u212aofi-mensah-{tag}@example.com")  # KELVIN SIGN lowers to "k"
        assert kelvin.status_code == 403
        assert "No one in the directory" in kelvin.json()["detail"]
        twins = caller(f"twin-{tag}@example.com")
        assert twins.status_code == 403 and "Several people" in twins.json()["detail"]


def _signed_in_web(api: Api, provider: Provider, claims: dict[str, Any]) -> Any:
    login = f"emp-{uuid4().hex[:8]}"
    provider.person_token(login, Role.EMPLOYEE, **claims)  # registers the account
    start = api.client.get("/oidc/login", follow_redirects=False)
    callback = sign_in_at_provider(str(start.headers["location"]), login, PUBLIC)
    parts = urlsplit(callback)
    return api.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


@pytest.mark.parametrize("case", BAD_IDS)
def test_web_sign_in_with_an_id_token_naming_a_bad_id_starts_no_session(
    prepared_database_url: str, oidc_provider: Provider, case: str
) -> None:
    settings = oidc_provider.settings(oidc_person_claim="employee_id")
    with serving(prepared_database_url, public_url=PUBLIC, **settings) as web:
        refused = _signed_in_web(web, oidc_provider, {"employee_id": BAD_IDS[case]})
        assert refused.status_code == 403 and "not a person id we accept" in refused.text
        assert COOKIE not in web.client.cookies
        fine = _signed_in_web(web, oidc_provider, {"employee_id": f"E-{uuid4().hex[:6]}"})
        assert fine.status_code == 303 and COOKIE in web.client.cookies


def test_web_sign_in_by_email_needs_a_verified_ascii_equal_address(
    prepared_database_url: str, oidc_provider: Provider
) -> None:
    settings = oidc_provider.settings(oidc_person_claim="email")
    with serving(prepared_database_url, public_url=PUBLIC, **settings) as web:
        person = f"kofi-mensah-{uuid4().hex[:6]}"
        hr = web.token("hr", Role.HR)
        web.data(hr, UPSERT, input=_people((person, f"{person}@example.com")))
        _caught_up(web, hr)
        groups = {"groups": [GROUP_OF[Role.EMPLOYEE]]}
        for claims in (
            {"email": f"{person}@example.com", "email_verified": False},
            {"email": f"{person}@example.com"},
            {"email": f"\u212a{person[1:]}@example.com", "email_verified": True},
        ):
            refused = _signed_in_web(web, oidc_provider, groups | claims)
            assert refused.status_code == 403, claims
            assert COOKIE not in web.client.cookies
        signed_in = _signed_in_web(
            web, oidc_provider, groups | {"email": f"{person}@example.com", "email_verified": True}
        )
        assert signed_in.status_code == 303
        assert f"Signed in as {person}" in web.client.get("/").text


@pytest.mark.parametrize(
    "query",
    [
        "query($v: ID!) { person(id: $v) { id } }",
        "query($v: String!) { careerEvidence(personId: $v) { skills { skill } } }",
        "query($v: String) { agreements(first: 5, filter: {employeeId: $v}) { edges { cursor } } }",
        "query($v: String) { agreements(first: 5, filter: {managerId: $v}) { edges { cursor } } }",
        'query($v: String) { reviewsDue(before: "2030-01-01", managerId: $v) { edges { cursor } } }',
        "query($v: String) { auditLog(first: 5, filter: {actorId: $v}) { edges { cursor } } }",
    ],
)
def test_graphql_inputs_naming_a_person_follow_the_rule(api: Api, query: str) -> None:
    hr = api.token("hr", Role.HR)
    # (A NUL in any variable is refused before resolvers run: BAD_REQUEST, api.graphql.hygiene.)
    for bad in [v for v in BAD_IDS.values() if "\u0000" not in v]:
        body = api.gql(hr, query, v=bad)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
        assert "must be a person id" in error["message"]
    fine = api.gql(hr, query, v="someone-else")  # nobody by that id: not found at most
    assert all(e["extensions"]["code"] == "NOT_FOUND" for e in fine.get("errors", [])), fine
