"""Bearer tokens: the HS256 secret is checked once (PyJWT re-checked it on every
token, parsing it as a DER key twice), while every token is still verified."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm

from api.http.auth import ALGORITHM, InvalidTokenError, actor_from_token, mint_token
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
