"""Bearer JWTs (HS256, SPEC section 3): minting and checking."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from domain.access import Actor
from domain.values import PERSON_ID_RULE, Role, is_person_id

ALGORITHM = "HS256"


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
        claims: dict[str, Any] = jwt.decode(
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
