"""SCIM 2.0 at /scim/v2 (RFC 7643/7644): scim2-server's ASGI application over the
directory, behind our bearer tokens. Integrations (and HR) may provision; anyone else
gets SCIM's 403, no or a bad token SCIM's 401 — errors in SCIM's format, always."""

from __future__ import annotations

import contextvars
import logging
from typing import Any
from urllib.parse import quote

from scim2_models import ForbiddenException, SCIMException, UnauthorizedException
from scim2_server.applications.asgi import ASGIApplication, Receive, Scope, Send
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse

from api.http import logs
from api.http.auth import bearer_token
from api.http.authenticator import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE,
    Authenticator,
    InvalidTokenError,
    ProviderUnavailableError,
    UnmappedTokenError,
)
from api.http.consistency import ConsistencyWaiter
from api.http.middleware import BodyRefusedError
from api.http.ratelimit import RateLimiter
from api.ports import Ports
from api.scim.models import provider
from api.scim.service import DirectoryService
from api.scim.storage import DirectoryStorage, caller
from domain.access import Actor
from domain.values import Role

PROVISIONERS = frozenset({Role.INTEGRATION, Role.HR})
WAITS_PER_IDP = 64
FORBIDDEN = "SCIM provisioning needs a token with the INTEGRATION (or HR) role."
# The request's body, read only once its caller is authenticated and within its budget.
_body: contextvars.ContextVar[Receive] = contextvars.ContextVar("scim_body")


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class ProviderUnavailable(SCIMException):
    status = 503
    _default_detail = UNAVAILABLE


class TooManyRequests(SCIMException):
    status = 429
    _default_detail = "Too many requests from this caller; retry after Retry-After seconds."


class ScimApplication(ASGIApplication):
    """The SCIM endpoints; each request runs as its token's caller."""

    def __init__(self, ports: Ports, authenticator: Authenticator, limiter: RateLimiter) -> None:
        scim = provider()
        super().__init__(
            # Every SCIM read waits for the read model to include the log's head (an
            # IdP reads its own writes); IdPs send many requests at once with one token.
            DirectoryStorage(
                ports, ConsistencyWaiter(ports.reads.engine, waits_per_caller=WAITS_PER_IDP)
            ),
            scim,
            DirectoryService(scim),
        )
        self.authenticator = authenticator
        self.limiter = limiter  # shared with GraphQL: one budget per caller
        self.log = logging.getLogger("crafting.scim")

    def handle_exception(self, request: ScimRequest, exception: Exception) -> ScimResponse:
        """The SCIM error response, logged without what the request or the database
        said: a client's error by its status and SCIM type only (its detail may quote
        the input: an e-mail address), anything else by its type and where it was
        raised (api.http.logs), never its message (a database error's message carries
        the statement's parameters). A body over the size or time limit is the HTTP
        middleware's to answer."""
        if isinstance(exception, BodyRefusedError):
            raise exception
        if isinstance(exception, SCIMException):
            self.log.info(
                "SCIM request refused",
                extra={"status": exception.status, "code": exception.scim_type},
            )
        else:
            self.log.error("SCIM request failed: %s", type(exception).__name__, exc_info=exception)
        return self.service.error_response(exception)

    async def actor(self, request: ScimRequest) -> Actor:
        """The token's caller, in SCIM's errors: 401 invalid, 403 unmapped, 503 the
        identity provider is unreachable."""
        header = {"authorization": request.header("Authorization") or ""}
        try:
            return await self.authenticator.actor_async(bearer_token(header))
        except InvalidTokenError:
            raise UnauthorizedException(detail="A valid bearer token is required.") from None
        except UnmappedTokenError as error:
            raise ForbiddenException(detail=str(error)) from None
        except ProviderUnavailableError:
            raise ProviderUnavailable() from None

    async def authorized(self, request: ScimRequest) -> Actor:
        """A valid token with a role that may provision."""
        actor = await self.actor(request)
        if not actor.roles & PROVISIONERS:
            raise ForbiddenException(detail=FORBIDDEN)
        return actor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request: its headers first; the body only for an admitted caller."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = await self.read_request(scope, _no_body)
        token = _body.set(receive)
        try:
            response = await self.serve(request)
        finally:
            _body.reset(token)
        await self.send_response(response, send)

    async def _read_body(self, request: ScimRequest) -> None:
        """The body, as scim2-server reads it (one byte past the limit, for its 413)."""
        receive, limit = _body.get(_no_body), self.service.max_body_size(request)
        body, more = b"", True
        while more:
            message = await receive()
            if limit is None or len(body) <= limit:
                body += message.get("body", b"")
            more = message.get("more_body", False)
        request.body = body if limit is None else body[: limit + 1]

    def finalize_response(self, request: ScimRequest, response: ScimResponse) -> ScimResponse:
        """scim2-server's headers, with `Location` percent-encoded: it is built from the
        decoded path, and a control character in a header makes the HTTP server drop
        the connection instead of answering."""
        finalized = super().finalize_response(request, response)
        if location := finalized.headers.get("Location"):
            finalized.headers["Location"] = quote(location, safe=":/?#[]@!$&'()*+,;=~")
        return finalized

    async def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        if self.needs_auth(request):
            try:
                actor = await self.authorized(request)
            except ProviderUnavailable as error:
                response = self.service.error_response(error)
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
                return response
            if wait := self.limiter.retry_after(actor.id):
                response = self.service.error_response(TooManyRequests())
                response.headers["Retry-After"] = str(wait)
                return response
        else:  # /ServiceProviderConfig is public (RFC 7643 §5); it reads nothing
            actor = Actor("anonymous", frozenset())
        await self._read_body(request)
        token = caller.set((actor, logs.correlation_id.get() or "scim"))
        try:
            return await self.handler.handle(request)
        finally:
            caller.reset(token)
