"""Who a bearer token names, for every front door (GraphQL, SCIM, metrics): the
identity provider's tokens when one is configured, and our own HS256 tokens
(`crafting token`, development and deployments without a provider) beside them.

Which verifier applies is decided by the token's `iss` claim: the provider's issuer
goes to the provider's keys (RS256/ES256 only), no issuer (ours never name one) to our
secret (HS256 only), any other issuer is refused. So a provider-shaped token never
reaches the HS256 check, and our secret never verifies a token claiming the provider."""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse

from api.http.auth import InvalidTokenError, actor_from_token, actor_of, decoded
from api.http.claim_mapping import ClaimMapping, UnmappedTokenError
from api.http.jwks import ProviderUnavailableError
from api.http.provider_tokens import ProviderTokens, unverified_issuer
from domain.access import Actor

__all__ = [
    "Authenticator",
    "InvalidTokenError",
    "ProviderUnavailableError",
    "UnmappedTokenError",
]
UNAVAILABLE = "The identity provider does not answer, so tokens cannot be checked; retry shortly."
RETRY_AFTER_SECONDS = 30


class Authenticator:
    def __init__(
        self,
        secret: str,
        provider: ProviderTokens | None = None,
        audience: str | None = None,
        mapping: ClaimMapping | None = None,
    ) -> None:
        self.secret = secret
        # API tokens from the provider need the audience they must be issued for.
        self.provider = provider if audience else None
        self.audience = audience or ""
        self.mapping = mapping or ClaimMapping()

    def actor(self, token: str) -> Actor:
        """The caller (blocking: may fetch the provider's keys or read the directory).
        InvalidTokenError (401), UnmappedTokenError (403), ProviderUnavailableError (503)."""
        if self.provider is None:
            # Every token we accept is ours: verify it first (one parse of the token,
            # not one to read its issuer and another to verify it). One that verifies
            # and names no issuer is answered; any other takes the path below, so every
            # refusal is the one it always was.
            try:
                claims = decoded(self.secret, token)
            except InvalidTokenError:
                claims = None
            if claims is not None and not isinstance(claims.get("iss"), str):
                return actor_of(claims)
        issuer = unverified_issuer(token)
        if self.provider is not None and issuer == self.provider.issuer:
            return self.mapping.actor(self.provider.access_claims(token, self.audience))
        if issuer is not None:
            raise InvalidTokenError("tokens of this issuer are not accepted")
        return actor_from_token(self.secret, token)

    async def actor_async(self, token: str) -> Actor:
        """The caller, off the event loop only when checking it needs I/O."""
        if self._provider_token(token) and (
            self.mapping.looks_up or self.provider is None or self.provider.needs_fetch(token)
        ):
            return await asyncio.to_thread(self.actor, token)
        return self.actor(token)

    def _provider_token(self, token: str) -> bool:
        try:
            return self.provider is not None and unverified_issuer(token) == self.provider.issuer
        except InvalidTokenError:
            return False


# What refuses a bearer token, each answered by `refused`.
REFUSALS = (InvalidTokenError, UnmappedTokenError, ProviderUnavailableError)


def refused(error: Exception) -> JSONResponse:
    """The answer to a request whose bearer token was refused (one of REFUSALS): 401 with
    the challenge, 403 for a token no role maps from, 503 while the provider is away."""
    if isinstance(error, UnmappedTokenError):
        return JSONResponse({"detail": str(error)}, 403)
    if isinstance(error, ProviderUnavailableError):
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return JSONResponse({"detail": UNAVAILABLE}, 503, headers=retry)
    return JSONResponse(
        {"detail": "The bearer token is invalid or expired."},
        401,
        headers={"WWW-Authenticate": "Bearer"},
    )
