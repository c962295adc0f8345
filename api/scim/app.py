"""SCIM 2.0 at /scim/v2 (RFC 7643/7644): scim2-server's ASGI application over the
directory, behind our bearer tokens. Integrations (and HR) may provision; anyone else
gets SCIM's 403, no or a bad token SCIM's 401 — errors in SCIM's format, always."""

from __future__ import annotations

import logging

from scim2_models import ForbiddenException, SCIMException, UnauthorizedException
from scim2_server.applications.asgi import ASGIApplication
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
        the statement's parameters)."""
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
        token = caller.set((actor, logs.correlation_id.get() or "scim"))
        try:
            return await self.handler.handle(request)
        finally:
            caller.reset(token)
