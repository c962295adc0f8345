"""Bearer JWTs (HS256, SPEC section 3): minting and checking."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

from domain.access import Actor
from domain.values import PERSON_ID_RULE, Role, is_person_id

ALGORITHM = "HS256"


@lru_cache(maxsize=8)  # the service's secret, its web sessions', tests' few
def _checked_secret(key: str | bytes) -> bytes:
    """An HS256 secret as PyJWT checks it (refused if it is an asymmetric key)."""
    prepared: bytes = HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(key)
    return prepared


class _KeptKeyHMAC(HMACAlgorithm):
    """HS256 whose secret is checked once per secret, not once per token.

    PyJWT checks an HMAC secret on every decode (is it a PEM, SSH or DER key? the DER
    test parses it twice with `cryptography`): a third of checking a token. The check
    depends on the secret alone, so its result is kept; every token's signature,
    expiry and claims are still verified on every request."""

    def prepare_key(self, key: str | bytes) -> bytes:
        return _checked_secret(key)


_JWT = jwt.PyJWT()
# PyJWT offers its signature layer only as `_jws`; HS256 is replaced there, so only
# this instance (our tokens' checks) keeps checked keys.
_JWT._jws.unregister_algorithm(ALGORITHM)
_JWT._jws.register_algorithm(ALGORITHM, _KeptKeyHMAC(_KeptKeyHMAC.SHA256))


class InvalidTokenError(Exception):
    """The token is missing, malformed, expired, or not signed with our secret."""


def bearer_token(headers: Mapping[str, str]) -> str:
    """The bearer token of a request's headers (InvalidTokenError when there is none)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("A bearer token is required.")
    return token.strip()


def mint_token(secret: str, sub: str, roles: list[Role], ttl: timedelta) -> str:
    """A signed token for `sub` (a person id: ValueError otherwise) with `roles`,
    valid for `ttl`."""
    if not is_person_id(sub):
        raise ValueError(f"sub must be {PERSON_ID_RULE}")
    now = datetime.now(UTC)
    claims = {"sub": sub, "roles": [r.value for r in roles], "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def actor_from_token(secret: str, token: str) -> Actor:
    """The caller a token names; only HS256 with our secret is accepted (never `none`).
    A token with an audience (a web sign-in link or session) is refused here."""
    return actor_of(decoded(secret, token))


def decoded(secret: str, token: str, audience: str | None = None) -> dict[str, Any]:
    """A token's claims, checked: signature, expiry and, when given, the audience
    (without one, PyJWT refuses any token that names an audience)."""
    required = ["exp", "sub"] + (["aud"] if audience else [])
    try:
        claims: dict[str, Any] = _JWT.decode(
            token, secret, algorithms=[ALGORITHM], audience=audience, options={"require": required}
        )
    except jwt.PyJWTError as error:
        raise InvalidTokenError(str(error)) from None
    return claims


def actor_of(claims: Mapping[str, Any]) -> Actor:
    """The caller checked claims name: a `sub` under the person-id rule, known roles."""
    sub, roles = claims.get("sub"), claims.get("roles")
    if not isinstance(sub, str) or not is_person_id(sub):
        raise InvalidTokenError(f"sub must be {PERSON_ID_RULE}")
    known = set(Role.__members__)
    if (
        not isinstance(roles, list)
        or not roles
        or not all(isinstance(r, str) and r in known for r in roles)
    ):
        raise InvalidTokenError("roles must be a non-empty list of known roles")
    return Actor(sub, frozenset(Role(r) for r in roles))
