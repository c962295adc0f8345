"""GraphQL over HTTP: authentication on every request, the spec's media types and
status codes, and orjson encoding."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from fastapi import HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from graphql import GraphQLError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from api.graphql.context import Context
from api.graphql.hygiene import request_problem
from api.graphql.schema import CraftingSchema
from api.http.auth import bearer_token
from api.http.authenticator import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE,
    Authenticator,
    InvalidTokenError,
    ProviderUnavailableError,
    UnmappedTokenError,
)
from api.http.consistency import ConsistencyWaiter, new_request
from api.http.metrics import GRAPHQL_ERRORS
from api.http.ratelimit import RateLimiter
from api.ports import Ports

GRAPHQL_RESPONSE = "application/graphql-response+json"
# Where the lean route leaves the request's context, or the refusal it met, in the
# ASGI scope's state (server-side only: no client can set it).
PREPARED = "graphql_prepared"
CHALLENGE = {"WWW-Authenticate": "Bearer"}
GRAPHIQL_ASSETS = Path(__file__).parents[1] / "static" / "graphiql"
GRAPHIQL_PAGE = GRAPHIQL_ASSETS / "index.html"
MAX_RESPONSE_BYTES = 8_000_000
TOO_LARGE = {
    "message": f"The response would be larger than {MAX_RESPONSE_BYTES:,} bytes; "
    "ask for fewer objects, children or fields.",
    "extensions": {"code": "RESPONSE_TOO_LARGE"},
}
# The media type and status of the response being built (per request task).
_reply: contextvars.ContextVar[tuple[str, int]] = contextvars.ContextVar(
    "graphql_reply", default=("application/json", 200)
)


class CraftingGraphQLRouter(GraphQLRouter[Context, None]):
    def __init__(
        self,
        ports: Ports,
        authenticator: Authenticator,
        limiter: RateLimiter,
        schema: CraftingSchema,
        *,
        dev: bool,
        **kwargs: Any,
    ) -> None:
        self.authenticator = authenticator
        self.dev = dev
        self.consistency = ConsistencyWaiter(ports.reads.engine)
        self.limiter = limiter

        self.ports = ports
        self.crafting_schema = schema

        async def context_getter(request: Request) -> Context | dict[str, Any]:
            if self.dev and _wants_ide(request):
                return {}  # the GraphiQL page itself; its queries carry a token
            # The lean route (api.graphql.compiled_route) checked the caller already and
            # passed the request on: its context, or the refusal it met, raised here so
            # the answer is this path's own (the check and the rate limit ran once).
            prepared = request.scope.get("state", {}).get(PREPARED)
            if isinstance(prepared, BaseException):
                raise prepared
            if isinstance(prepared, Context):
                return prepared
            return await self.caller(request.headers, request.state.correlation_id)

        super().__init__(schema, context_getter=context_getter, **kwargs)  # type: ignore[arg-type]

    async def caller(self, headers: Mapping[str, str], correlation_id: str) -> Context:
        """The request's context: its bearer token checked and the caller's rate limit
        taken; refusals are HTTPExceptions (401, 403, 429, 503)."""
        try:
            token = bearer_token(headers)
        except InvalidTokenError as error:
            raise HTTPException(401, str(error), headers=CHALLENGE) from None
        try:
            actor = await self.authenticator.actor_async(token)
        except InvalidTokenError:
            raise HTTPException(
                401, "The bearer token is invalid or expired.", headers=CHALLENGE
            ) from None
        except UnmappedTokenError as error:
            raise HTTPException(403, str(error)) from None
        except ProviderUnavailableError:
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            raise HTTPException(503, UNAVAILABLE, headers=headers) from None
        if wait := self.limiter.retry_after(actor.id):
            raise HTTPException(
                429,
                f"Too many requests from this caller; retry in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        return Context(self.ports, actor, correlation_id, self.consistency)

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Refuse text that is not text before strawberry parses it (BAD_REQUEST)."""
        # Before execution fans out into tasks: a consistentWith wait in one field
        # then holds for every read of the request (api.http.consistency).
        new_request()
        if problem := request_problem(request_data.query, request_data.variables):
            error = GraphQLError(problem, extensions={"code": "BAD_REQUEST"})
            return ExecutionResult(data=None, errors=[error])
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL (development mode only) from the service's own files, no CDN."""
        return HTMLResponse(GRAPHIQL_PAGE.read_text(encoding="utf-8"))

    def decode_json(self, data: str | bytes) -> object:
        """A request body (or `variables` in a GET): a JSON object, or a list of them
        for batching (refused later). orjson first (fast); what it refuses goes to
        `json`, which also reads escaped lone surrogates (refused later with a GraphQL
        error that says so). Malformed JSON, invalid UTF-8 and nesting deeper than the
        parser recurses are a 400; so is a bare string, number or null."""
        try:
            decoded = orjson.loads(data)
        except orjson.JSONDecodeError:
            try:
                decoded = json.loads(data)
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "The request body must be a JSON object.")
        return decoded

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request's operation; `operationName` must be a string when given."""
        parsed = await super().parse_http_body(request)
        for data in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(data.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string."
                )
        return parsed

    def encode_json(self, data: object) -> bytes:
        """orjson: fast, and it writes the compiled reads' JSON text as it is."""
        return orjson.dumps(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Count errors by code; pick the media type and status GraphQL over HTTP asks."""
        response = await super().process_result(request, result)
        for error in result.errors or ():
            GRAPHQL_ERRORS.labels((error.extensions or {}).get("code", "GRAPHQL")).inc()
        # A request error (parse, validation) happens before execution: no `data` entry.
        request_error = (
            result.data is None
            and bool(result.errors)
            and all(e.path is None for e in result.errors or ())
        )
        if request_error:
            response.pop("data", None)
        # application/graphql-response+json only when asked for by name; `*/*`, a
        # missing Accept and application/json get application/json (GraphQL over HTTP).
        if GRAPHQL_RESPONSE in request.headers.get("accept", ""):
            _reply.set((GRAPHQL_RESPONSE, 400 if request_error else 200))
        else:
            _reply.set(("application/json", 200))
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        """The response, or RESPONSE_TOO_LARGE instead of a body over the bound."""
        media_type, status = _reply.get()
        return Response(response_body(response_data), media_type=media_type, status_code=status)


def response_body(response_data: object) -> bytes:
    """The response as JSON (orjson), or RESPONSE_TOO_LARGE instead of a body over
    the bound."""
    body = orjson.dumps(response_data)
    if len(body) > MAX_RESPONSE_BYTES:
        GRAPHQL_ERRORS.labels("RESPONSE_TOO_LARGE").inc()
        body = orjson.dumps({"data": None, "errors": [TOO_LARGE]})
    return body


def data_media_type(accept: str) -> str:
    """The media type of a response with `data` (status 200 either way):
    application/graphql-response+json only when asked for by name; `*/*`, a missing
    Accept and application/json get application/json (GraphQL over HTTP)."""
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else "application/json"


def _wants_ide(request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )
