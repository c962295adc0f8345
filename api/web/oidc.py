"""Web sign-in with the company's identity provider: OpenID Connect's Authorization Code
flow with PKCE, `state` and `nonce` (Authlib builds the request and redeems the code),
and RP-initiated logout.

The flow's secrets (state, nonce, PKCE verifier) live in a short-lived cookie signed with
our secret, bound to the browser that started the sign-in and to /oidc only. The ID
token is verified against the provider's keys (issuer, audience = our client, nonce,
expiry), its claims mapped as an API token's are, and the browser gets the same session
cookie a sign-in link gives; the ID token itself is not kept (logout names our client)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx2
import jwt
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.http.auth import ALGORITHM, InvalidTokenError
from api.http.claim_mapping import UnmappedTokenError
from api.http.identity import WebClient
from api.http.jwks import Discovery, ProviderUnavailableError
from api.web.navigation import landing
from api.web.sessions import new_session
from api.web.site import Site

log = logging.getLogger("crafting.web.oidc")
FLOW_COOKIE = "crafting_oidc"
FLOW_AUDIENCE = "crafting:oidc-flow"
FLOW_LIFETIME = timedelta(minutes=10)
TOKEN_TIMEOUT_SECONDS = 10.0
SIGNED_OUT = "/signin?signed_out=1"


def origin(url: str) -> str:
    """scheme://host[:port] of a URL (the CSP's form-action source for logout)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class ProviderSignIn:
    """The /oidc routes for one provider client."""

    def __init__(self, site: Site, client: WebClient) -> None:
        self.site = site
        self.client = client
        self.callback_url = f"{site.public_url}/oidc/callback"

    async def discovery(self) -> Discovery:
        return await asyncio.to_thread(self.client.tokens.keys.discovery)

    async def login(self, request: Request) -> Response:
        """To the provider's sign-in page, with a fresh state, nonce and PKCE verifier."""
        self.site.throttle_address(request)
        try:
            endpoint = (await self.discovery()).authorization_endpoint
        except ProviderUnavailableError:
            return self._unavailable(request)
        if endpoint is None:
            return self._unavailable(request)
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        async with self._oauth() as oauth:
            url, _ = oauth.create_authorization_url(
                endpoint, state=state, code_verifier=verifier, nonce=nonce
            )
        response = RedirectResponse(url, 303)
        now = datetime.now(UTC)
        flow = {"aud": FLOW_AUDIENCE, "exp": now + FLOW_LIFETIME, "iat": now}
        value = jwt.encode(
            flow | {"state": state, "nonce": nonce, "cv": verifier},
            self.site.secret,
            algorithm=ALGORITHM,
        )
        response.set_cookie(
            FLOW_COOKIE,
            value,
            max_age=int(FLOW_LIFETIME.total_seconds()),
            path="/oidc",
            httponly=True,
            samesite="lax",  # sent on the provider's top-level redirect back to us
            secure=self.site.secure(request),
        )
        return response

    async def callback(self, request: Request) -> Response:
        """Redeem the code, verify the ID token, start our session."""
        self.site.throttle_address(request)
        flow = self._flow(request)
        given = request.query_params
        if flow is None or not hmac.compare_digest(given.get("state", ""), flow["state"]):
            return self._page(request, 400, "This sign-in has expired", "Start again.")
        if "error" in given:
            log.info("the identity provider refused a sign-in: %s", given.get("error"))
            return self._page(
                request, 403, "You were not signed in", "The identity provider did not sign you in."
            )
        # RFC 9207: a provider naming itself must name ours (mix-up attacks).
        if "iss" in given and given["iss"] != self.client.tokens.issuer:
            return self._page(request, 400, "This sign-in has expired", "Start again.")
        try:
            discovery = await self.discovery()
            if discovery.token_endpoint is None:
                raise ProviderUnavailableError("no token endpoint")
            async with self._oauth() as oauth:
                token = await oauth.fetch_token(
                    discovery.token_endpoint,
                    grant_type="authorization_code",
                    code=given.get("code", ""),
                    code_verifier=flow["cv"],
                )
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise InvalidTokenError("the provider returned no ID token")
            actor = await asyncio.to_thread(self._actor, id_token, flow["nonce"])
        except (ProviderUnavailableError, httpx2.TransportError):
            return self._unavailable(request)
        except (OAuthError, InvalidTokenError) as error:
            log.warning("a sign-in was refused: %s", type(error).__name__)
            return self._page(request, 400, "This sign-in did not work", "Start again.")
        except UnmappedTokenError as error:
            return self._page(request, 403, "You cannot use this service yet", str(error))
        response = RedirectResponse(landing(actor), 303)  # where their work is
        session = new_session(actor, datetime.now(UTC), via_provider=True)
        self.site.set_cookie(request, response, session)
        response.delete_cookie(FLOW_COOKIE, path="/oidc", secure=self.site.secure(request))
        return response

    async def logout_url(self) -> str | None:
        """The provider's end-session page for our client, coming back to our signed-out
        page (None: the provider offers none, or does not answer)."""
        try:
            endpoint = (await self.discovery()).end_session_endpoint
        except ProviderUnavailableError:
            return None
        if endpoint is None:
            return None
        query = urlencode(
            {
                "client_id": self.client.client_id,
                "post_logout_redirect_uri": self.site.public_url + SIGNED_OUT,
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def _actor(self, id_token: str, nonce: str) -> Any:
        claims = self.client.tokens.id_token_claims(id_token, self.client.client_id, nonce)
        return self.client.mapping.actor(claims)

    def _oauth(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client.client_id,
            client_secret=self.client.client_secret,
            scope=self.client.scopes,
            redirect_uri=self.callback_url,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
            timeout=TOKEN_TIMEOUT_SECONDS,
        )

    def _flow(self, request: Request) -> dict[str, str] | None:
        value = request.cookies.get(FLOW_COOKIE)
        if not value:
            return None
        try:
            claims = jwt.decode(
                value, self.site.secret, algorithms=[ALGORITHM], audience=FLOW_AUDIENCE
            )
        except jwt.PyJWTError:
            return None
        found = {k: claims.get(k) for k in ("state", "nonce", "cv")}
        if not all(isinstance(v, str) and v for v in found.values()):
            return None
        return {k: str(v) for k, v in found.items()}

    def _unavailable(self, request: Request) -> Response:
        return self._page(
            request,
            503,
            "Sign-in is unavailable",
            "The identity provider does not answer. Try again in a few minutes.",
        )

    def _page(self, request: Request, status: int, title: str, message: str) -> Response:
        return self.site.render(request, "error.html", None, status, title=title, message=message)
