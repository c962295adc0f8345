"""Tokens the identity provider signed: API access tokens and the web's ID tokens,
checked against the provider's published keys (api.http.jwks).

Only RS256 and ES256 are accepted, and a key is used only with the algorithm of its own
type: never `none`, never HS* (which would verify with the public key as a shared
secret: algorithm confusion). `iss`, `aud`, `exp`, `nbf` and `iat` are checked with a
small leeway for clock skew."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

import jwt

from api.http.auth import InvalidTokenError
from api.http.jwks import KeySet, UnknownKeyError

# Each accepted algorithm, with the key type (and curve) that may verify it.
ALGORITHMS = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}
MAX_TOKEN_LENGTH = 16_384


def unverified_header(token: str) -> Mapping[str, Any]:
    """The token's header, not yet trusted (InvalidTokenError when malformed)."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidTokenError("the token is too long")
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidTokenError(str(error)) from None


def unverified_issuer(token: str) -> str | None:
    """The `iss` a token claims, not yet trusted (None when it claims none)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise InvalidTokenError(str(error)) from None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


class ProviderTokens:
    """Verifies tokens of one issuer against its keys."""

    def __init__(self, keys: KeySet, leeway_seconds: int) -> None:
        self.keys = keys
        self.issuer = keys.issuer
        self.leeway = leeway_seconds

    def needs_fetch(self, token: str) -> bool:
        """Whether verifying would fetch keys (then run it off the event loop)."""
        return self.keys.cached(unverified_header(token).get("kid")) is None

    def access_claims(self, token: str, audience: str) -> dict[str, Any]:
        """An API access token's claims, verified."""
        return self._verified(token, audience)

    def id_token_claims(self, token: str, client_id: str, nonce: str) -> dict[str, Any]:
        """A sign-in's ID token claims, verified, and bound to this browser's `nonce`
        (a replayed or injected ID token carries another)."""
        claims = self._verified(token, client_id)
        presented = claims.get("nonce")
        if not isinstance(presented, str) or not hmac.compare_digest(presented, nonce):
            raise InvalidTokenError("the ID token's nonce is not this sign-in's")
        azp = claims.get("azp")
        if azp is not None and azp != client_id:
            raise InvalidTokenError("the ID token was issued to another client")
        return claims

    def _verified(self, token: str, audience: str) -> dict[str, Any]:
        header = unverified_header(token)
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise InvalidTokenError("only RS256 and ES256 are accepted from the provider")
        kid = header.get("kid")
        try:
            jwk = self.keys.key(kid if isinstance(kid, str) else None)
        except UnknownKeyError as error:
            raise InvalidTokenError(str(error)) from None
        kty, curve = ALGORITHMS[alg]
        if jwk.get("kty") != kty or jwk.get("crv", curve) != curve or jwk.get("alg", alg) != alg:
            raise InvalidTokenError("the token's algorithm does not fit the provider's key")
        try:
            key = jwt.PyJWK(dict(jwk), algorithm=alg)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError(str(error)) from None
        return claims
