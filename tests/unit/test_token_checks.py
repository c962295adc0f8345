"""Bearer tokens: the HS256 secret is checked once (PyJWT re-checked it on every
token, parsing it as a DER key twice), and one of our tokens once per process until it
expires (the Authenticator), while every token is still verified."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import jwt.api_jwt
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


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Authenticator verifies one of our tokens once per process; at its expiry it
    is refused as before (PyJWT's answer), and so is any token it did not verify."""
    authenticator = Authenticator(SECRET)
    token = mint_token(SECRET, "emp-1", [Role.EMPLOYEE], timedelta(minutes=5))
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    parsed: list[str] = []
    real = PyJWS._load

    def counted(self: PyJWS, text: str | bytes) -> Any:
        parsed.append("x")
        return real(self, text)

    monkeypatch.setattr(PyJWS, "_load", counted)
    assert authenticator.actor(token).id == "emp-1"
    first = len(parsed)
    assert first > 0
    for _ in range(3):
        assert authenticator.actor(token).id == "emp-1"
        assert asyncio.run(authenticator.actor_async(token)).id == "emp-1"
    assert len(parsed) == first  # not parsed again
    # One second before the expiry it is still good; at the expiry PyJWT's own refusal.
    monkeypatch.setattr(time, "time", lambda: exp - 1)
    assert authenticator.actor(token).id == "emp-1"
    monkeypatch.setattr(time, "time", lambda: exp)
    monkeypatch.setattr(
        jwt.api_jwt, "datetime", _Clock(datetime.fromtimestamp(exp, UTC)), raising=True
    )
    with pytest.raises(InvalidTokenError, match="Signature has expired"):
        authenticator.actor(token)
    with pytest.raises(InvalidTokenError, match="Signature has expired"):
        asyncio.run(authenticator.actor_async(token))


def test_a_token_not_ours_is_never_remembered() -> None:
    authenticator = Authenticator(SECRET)
    other = mint_token(SECRET + "other", "emp-1", [Role.EMPLOYEE], timedelta(minutes=5))
    claims = {"sub": "emp-1", "roles": ["EMPLOYEE"], "exp": 2**40, "iss": "https://idp"}
    foreign = jwt.encode(claims, SECRET, ALGORITHM)
    for _ in range(2):
        with pytest.raises(InvalidTokenError, match="Signature verification failed"):
            authenticator.actor(other)
        with pytest.raises(InvalidTokenError, match="issuer are not accepted"):
            authenticator.actor(foreign)


class _Clock:
    """`datetime` as PyJWT reads the time: `now` fixed."""

    def __init__(self, now: datetime) -> None:
        self.now_at = now

    def now(self, tz: Any = None) -> datetime:
        return self.now_at
