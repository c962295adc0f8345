"""API tokens from a real OpenID provider (node-oidc-provider on 127.0.0.1): accepted
on GraphQL, SCIM and metrics beside our HS256 tokens; refused with 401 when forged,
misdirected or out of date, with 403 when they name no caller of ours, with 503 when the
provider is gone and the keys are stale; key rotation; one JWKS fetch per burst."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from api.http.auth import mint_token
from domain.values import Role
from tests.e2e.conftest import Api, serving
from tests.oidc import INTEGRATION_CLIENT, Provider, new_key, sign

VIEWER = "{ viewer { id roles } }"
SCIM_USERS = "/scim/v2/Users"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _status(api: Api, token: str) -> int:
    return int(api.post(VIEWER, token=token).status_code)


def _scim(api: Api, token: str) -> int:
    response = api.client.get(SCIM_USERS, headers={"Authorization": f"Bearer {token}"})
    return int(response.status_code)


@pytest.fixture(scope="module")
def oidc_api(module_database_url: str, oidc_provider: Provider) -> Iterator[Api]:
    """Shared by the module's tests (each makes its own people: tests.e2e.shared)."""
    with serving(module_database_url, **oidc_provider.settings()) as served:
        yield served


def test_a_person_token_from_the_provider_works_on_graphql_scim_and_metrics(
    oidc_api: Api, oidc_provider: Provider
) -> None:
    sub = f"hr-{uuid4().hex[:8]}"
    token = oidc_provider.person_token(sub, Role.HR, Role.EMPLOYEE)
    viewer = oidc_api.data(token, VIEWER)["viewer"]
    assert viewer == {"id": sub, "roles": ["EMPLOYEE", "HR"]}
    assert _scim(oidc_api, token) == 200
    metrics = oidc_api.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert metrics.status_code == 200


def test_a_client_credentials_token_is_an_integration(
    oidc_api: Api, oidc_provider: Provider
) -> None:
    token = oidc_provider.client_credentials_token()
    viewer = oidc_api.data(token, VIEWER)["viewer"]
    assert viewer == {"id": INTEGRATION_CLIENT, "roles": ["INTEGRATION"]}
    assert _scim(oidc_api, token) == 200
    feed = oidc_api.data(token, "{ changes(first: 1) { edges { cursor } } }")
    assert "changes" in feed


def test_our_hs256_tokens_still_work_beside_the_provider(oidc_api: Api) -> None:
    token = mint_token(oidc_api.secret, "dev", [Role.AUDITOR], timedelta(minutes=5))
    assert oidc_api.data(token, VIEWER)["viewer"] == {"id": "dev", "roles": ["AUDITOR"]}


def test_a_token_claiming_the_provider_is_never_checked_with_our_secret(
    oidc_api: Api, oidc_provider: Provider
) -> None:
    import jwt

    claims = oidc_provider.claims(sub="x", roles=["HR"])
    forged = jwt.encode(claims, oidc_api.secret, algorithm="HS256")
    assert _status(oidc_api, forged) == 401
    assert _scim(oidc_api, forged) == 401


def _confused(provider: Provider) -> str:
    """HS256 over the token, keyed with the provider's public key as published (PEM):
    what a verifier that trusts the header's `alg` would accept."""
    public = RSAAlgorithm.from_jwk(json.dumps(provider.keys[0])).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": provider.keys[0]["kid"]}).encode()
    )
    payload = _b64(json.dumps(provider.claims()).encode())
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _unsigned(provider: Provider) -> str:
    header = _b64(
        json.dumps({"alg": "none", "typ": "JWT", "kid": provider.keys[0]["kid"]}).encode()
    )
    return f"{header}.{_b64(json.dumps(provider.claims()).encode())}."


def _tampered(provider: Provider) -> str:
    header, payload, signature = provider.person_token("emp-x", Role.EMPLOYEE).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["groups"] = ["crafting-hr"]
    return ".".join((header, _b64(json.dumps(claims).encode()), signature))


def _stranger_key(provider: Provider) -> str:
    # Same key id as the provider's: only the signature can tell.
    impostor = new_key(provider.keys[0]["kid"])
    return sign(provider.claims(), impostor)


REFUSED: dict[str, Any] = {
    "another issuer": lambda p: sign(p.claims(iss="https://evil.example"), p.keys[0]),
    "the wrong audience": lambda p: sign(p.claims(aud="https://other.example/api"), p.keys[0]),
    "expired": lambda p: sign(
        p.claims(iat=int(time.time()) - 900, exp=int(time.time()) - 600), p.keys[0]
    ),
    "not yet valid": lambda p: sign(p.claims(nbf=int(time.time()) + 600), p.keys[0]),
    "issued in the future": lambda p: sign(p.claims(iat=int(time.time()) + 600), p.keys[0]),
    "without an expiry": lambda p: sign(
        {k: v for k, v in p.claims().items() if k != "exp"}, p.keys[0]
    ),
    "alg none": _unsigned,
    "HS256 with the provider's public key": _confused,
    "signed by a key not in the JWKS": _stranger_key,
    "a tampered payload": _tampered,
    "a made-up key id": lambda p: sign(p.claims(), p.keys[0], kid="made-up"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_bad_provider_token_is_refused_with_401(
    oidc_api: Api, oidc_provider: Provider, case: str
) -> None:
    token = REFUSED[case](oidc_provider)
    # The same claims, correctly signed, pass: it is the flaw that is refused.
    assert _status(oidc_api, sign(oidc_provider.claims(), oidc_provider.keys[0])) == 200
    response = oidc_api.post(VIEWER, token=token)
    assert response.status_code == 401, (case, response.text)
    assert response.json() == {"detail": "The bearer token is invalid or expired."}
    assert _scim(oidc_api, token) == 401


def test_a_token_naming_no_role_of_ours_is_refused_with_a_clear_403(
    oidc_api: Api, oidc_provider: Provider
) -> None:
    token = sign(oidc_provider.claims(groups=["sales", "all-staff"]), oidc_provider.keys[0])
    response = oidc_api.post(VIEWER, token=token)
    assert response.status_code == 403
    assert "`groups` claim maps to none of our roles" in response.json()["detail"]
    scim = oidc_api.client.get(SCIM_USERS, headers={"Authorization": f"Bearer {token}"})
    assert scim.status_code == 403 and "`groups`" in scim.json()["detail"]


def test_a_token_naming_no_person_is_refused_with_a_clear_403(
    prepared_database_url: str, oidc_provider: Provider
) -> None:
    with serving(
        prepared_database_url, **oidc_provider.settings(oidc_person_claim="employee_id")
    ) as api:
        token = oidc_provider.person_token(f"p-{uuid4().hex[:6]}", Role.EMPLOYEE)
        response = api.post(VIEWER, token=token)
        assert response.status_code == 403
        assert "no `employee_id` claim naming a person" in response.json()["detail"]
        with_id = oidc_provider.person_token("acct-1", Role.EMPLOYEE, employee_id="E-1234")
        assert api.data(with_id, VIEWER)["viewer"]["id"] == "E-1234"


def test_the_person_may_be_found_by_email_in_the_directory(
    prepared_database_url: str, oidc_provider: Provider
) -> None:
    with serving(prepared_database_url, **oidc_provider.settings(oidc_person_claim="email")) as api:
        person = f"emp-{uuid4().hex[:8]}"
        hr = api.token("hr", Role.HR)  # ours, HS256: setting the scene
        api.data(
            hr,
            """mutation($input: UpsertPeopleInput!) { upsertPeople(input: $input) {
              position userErrors { code } } }""",
            input={
                "people": [
                    {
                        "id": person,
                        "displayName": "Ada",
                        "email": f"{person}@example.com",
                        "teamId": "t",
                        "contractedHoursPerWeek": 40,
                    }
                ]
            },
        )
        api.data(
            hr,
            "query($p: Int) { agreements(first: 0, consistentWith: $p) { edges { cursor } } }",
            p=api.position(),
        )
        token = oidc_provider.person_token(
            "okta-uid-1", Role.EMPLOYEE, email=f"{person.upper()}@example.com", email_verified=True
        )
        assert api.data(token, VIEWER)["viewer"]["id"] == person
        unknown = oidc_provider.person_token(
            "okta-uid-2", Role.EMPLOYEE, email="no@example.com", email_verified=True
        )
        response = api.post(VIEWER, token=unknown)
        assert response.status_code == 403
        assert "No one in the directory has the e-mail address" in response.json()["detail"]


def test_after_key_rotation_new_and_old_tokens_work_until_the_old_ones_expire(
    prepared_database_url: str, own_provider: Provider
) -> None:
    settings = own_provider.settings(oidc_leeway_seconds=0, oidc_jwks_min_refresh_seconds=0)
    with serving(prepared_database_url, **settings) as api:
        old_key = own_provider.keys[0]
        before = own_provider.person_token("emp-1", Role.EMPLOYEE)
        short_lived = sign(own_provider.claims(exp=int(time.time()) + 3), old_key)
        assert _status(api, before) == 200
        fetches = own_provider.jwks_fetches()
        new_key_ = own_provider.rotate()
        after = own_provider.person_token("emp-2", Role.EMPLOYEE)
        assert (
            json.loads(base64.urlsafe_b64decode(after.split(".")[0] + "=="))["kid"]
            == new_key_["kid"]
        )
        assert _status(api, after) == 200  # an unknown kid: the keys are fetched again
        assert own_provider.jwks_fetches() == 1  # the restarted provider counts anew
        assert fetches >= 1
        assert _status(api, before) == 200 and _status(api, short_lived) == 200
        time.sleep(4)
        assert _status(api, short_lived) == 401  # the old key's token, now expired
        assert _status(api, after) == 200


def test_a_burst_of_made_up_key_ids_costs_the_provider_one_fetch(
    prepared_database_url: str, own_provider: Provider
) -> None:
    settings = own_provider.settings(oidc_jwks_min_refresh_seconds=60)
    with serving(prepared_database_url, **settings) as api:
        assert _status(api, own_provider.person_token("emp-1", Role.EMPLOYEE)) == 200
        fetches = own_provider.jwks_fetches()
        forged = [
            sign(own_provider.claims(), own_provider.keys[0], kid=f"made-up-{i}") for i in range(40)
        ]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda t: _status(api, t), forged))
        assert statuses == [401] * 40
        assert own_provider.jwks_fetches() - fetches <= 1
        # Genuine tokens meanwhile work from the cache.
        assert _status(api, own_provider.person_token("emp-2", Role.EMPLOYEE)) == 200


def test_a_provider_that_is_down_is_a_clear_503_once_the_keys_are_stale(
    prepared_database_url: str, own_provider: Provider
) -> None:
    settings = own_provider.settings(oidc_jwks_cache_seconds=1, oidc_jwks_min_refresh_seconds=0)
    with serving(prepared_database_url, **settings) as api:
        token = own_provider.person_token("hr-1", Role.HR)
        assert _status(api, token) == 200
        own_provider.stop()
        time.sleep(1.2)
        response = api.post(VIEWER, token=token)
        assert response.status_code == 503, response.text
        assert "identity provider does not answer" in response.json()["detail"]
        assert response.headers["retry-after"]
        scim = api.client.get(SCIM_USERS, headers={"Authorization": f"Bearer {token}"})
        assert scim.status_code == 503 and "identity provider" in scim.json()["detail"]
        # Our own tokens do not depend on the provider.
        assert _status(api, api.token("dev", Role.AUDITOR)) == 200
        own_provider.start()
        assert _status(api, token) == 200
