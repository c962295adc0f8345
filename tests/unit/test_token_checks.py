"""Bearer tokens: the HS256 secret is checked once (PyJWT re-checked it on every
token, parsing it as a DER key twice), while every token is still verified."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm
from jwt.api_jws import PyJWS

from api.http.auth import ALGORITHM, InvalidTokenError, actor_from_token, mint_token
from api.http.authenticator import Authenticator
from domain.values import Role

SECRET = "a-secret-of-the-test-" + "x" * 64


def test_the_secret_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = SECRET + "once"  # a secret no other test has used (checks are kept)
    tokens = [
        mint_token(secret, f"emp-{i}", [Role.EMPLOYEE], timedelta(minutes=5)) for i in range(3)
    ]
    checks: list[object] = []
    real = HMACAlgorithm.prepare_key

    def counted(self: HMACAlgorithm, key: str | bytes) -> bytes:
        checks.append(key)
        return real(self, key)

    monkeypatch.setattr(HMACAlgorithm, "prepare_key", counted)
    assert [actor_from_token(secret, t).id for t in tokens] == ["emp-0", "emp-1", "emp-2"]
    assert checks == [secret]


def test_every_token_is_still_verified() -> None:
    good = mint_token(SECRET, "emp-1", [Role.EMPLOYEE], timedelta(minutes=5))
    assert actor_from_token(SECRET, good).id == "emp-1"
    other = mint_token(SECRET + "other", "emp-1", [Role.EMPLOYEE], timedelta(minutes=5))
    expired = mint_token(SECRET, "emp-1", [Role.EMPLOYEE], timedelta(minutes=-5))
    unsigned = jwt.encode({"sub": "emp-1", "roles": ["EMPLOYEE"], "exp": 2**40}, None, "none")
    hs512 = jwt.encode({"sub": "emp-1", "roles": ["EMPLOYEE"], "exp": 2**40}, SECRET, "HS512")
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    for token in (other, expired, unsigned, hs512, tampered):
        with pytest.raises(InvalidTokenError):
            actor_from_token(SECRET, token)
    assert ALGORITHM == "HS256"


def test_an_asymmetric_key_is_still_refused_as_a_secret() -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
    token = mint_token(SECRET, "emp-1", [Role.EMPLOYEE], timedelta(minutes=5))
    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            actor_from_token(pem, token)


def _refusal(authenticator: Authenticator, token: str) -> str:
    with pytest.raises(InvalidTokenError) as refused:
        authenticator.actor(token)
    return str(refused.value)


def test_our_token_is_parsed_once_per_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an identity provider every accepted token is ours: it is verified
    straight away (one parse), not parsed for its issuer first and again to verify."""
    authenticator = Authenticator(SECRET)
    token = mint_token(SECRET, "emp-1", [Role.EMPLOYEE], timedelta(minutes=5))
    parses = 0
    real = PyJWS._load

    def counted(self: PyJWS, jwt_: str | bytes) -> Any:
        nonlocal parses
        parses += 1
        return real(self, jwt_)

    monkeypatch.setattr(PyJWS, "_load", counted)
    for _ in range(3):  # verified every time
        assert authenticator.actor(token).id == "emp-1"
    assert parses == 3


def test_refusals_without_a_provider_are_the_same() -> None:
    """What the single parse does not accept takes the full path: each refusal as
    before (an issuer named, PyJWT's own reasons), also for tokens of our secret."""
    authenticator = Authenticator(SECRET)
    claims = {"sub": "emp-1", "roles": ["EMPLOYEE"], "exp": 2**40}
    ours_with_issuer = jwt.encode({**claims, "iss": "https://idp.example"}, SECRET, ALGORITHM)
    other_with_issuer = jwt.encode({**claims, "iss": "https://idp.example"}, "x" * 64, ALGORITHM)
    expired = mint_token(SECRET, "emp-1", [Role.EMPLOYEE], timedelta(minutes=-5))
    other = mint_token(SECRET + "other", "emp-1", [Role.EMPLOYEE], timedelta(minutes=5))
    no_roles = jwt.encode({"sub": "emp-1", "exp": 2**40}, SECRET, ALGORITHM)
    no_exp = jwt.encode({"sub": "emp-1", "roles": ["EMPLOYEE"]}, SECRET, ALGORITHM)
    assert _refusal(authenticator, ours_with_issuer) == "tokens of this issuer are not accepted"
    assert _refusal(authenticator, other_with_issuer) == "tokens of this issuer are not accepted"
    assert _refusal(authenticator, expired) == "Signature has expired"
    assert _refusal(authenticator, other) == "Signature verification failed"
    assert _refusal(authenticator, no_roles) == "roles must be a non-empty list of known roles"
    assert _refusal(authenticator, no_exp) == 'Token is missing the "exp" claim'
    assert _refusal(authenticator, "not.a.token") == "Invalid header padding"
