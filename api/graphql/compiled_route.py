"""A lean ASGI route for compiled documents: POST /graphql answered without FastAPI's
routing and dependencies or strawberry's view and execution, when the document's text
has a compiled plan (api.graphql.compiled).

Around a compiled page, FastAPI/Starlette and strawberry's machinery were ~45% of a
worker's Python (bench/RESULTS.md, HRIS read). This route sits inside RequestMiddleware
(correlation id, body limits, metrics and the log line are the same for both paths) and
in front of the app. It answers only the plain success: a JSON body of `query`,
`variables` and `operationName` whose text was compiled before (so the schema's parser,
limits and validation passed it, none of which depends on the caller), a caller the
router's own check accepts, and a plan that serves the arguments. Anything else — a body
it does not read as that, an unknown text, a refused caller, arguments the resolvers
must refuse — goes on to the app with the body replayed, and the context or the refusal
it met (`PREPARED`), so the token is checked and the rate limit taken once, and every
error is the app's own. Its response is built by the router's own functions; tests
compare both paths byte for byte (tests/graphql/test_compiled_route.py).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql.hygiene import request_problem
from api.graphql.router import PREPARED, CraftingGraphQLRouter, data_media_type, response_body
from api.http.consistency import new_request

PATH = "/graphql"
_FIELDS = frozenset({"query", "variables", "operationName"})


class CompiledRoute:
    """ASGI: compiled documents answered directly; every other request to the app."""

    def __init__(self, app: ASGIApp, graphql: CraftingGraphQLRouter) -> None:
        self.app = app
        self.graphql = graphql
        self.reads = graphql.crafting_schema.compiled_reads
        # strawberry offers its graphql-core schema only as `_schema`.
        self.schema = graphql.crafting_schema._schema
        self.on = graphql.ports.reads.compiled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            self.on
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == PATH
        ):
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        parts: list[bytes] = []
        while True:  # body limits are RequestMiddleware's (its `receive`)
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # a disconnect: the app meets it as it would have
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        if received[-1]["type"] == "http.request" and await self._answered(
            scope, b"".join(parts), send
        ):
            return
        await self.app(scope, _replaying(received, receive), send)

    async def _answered(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Answer the request when it is a compiled document's plain success."""
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        accept = headers.get("accept", "")
        # strawberry streams for these (multipart, server-sent events): its own path.
        if content_type != "application/json" or "multipart" in accept or "event-stream" in accept:
            return False
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        if type(request) is not dict or not request.keys() <= _FIELDS:
            return False
        query, variables = request.get("query"), request.get("variables")
        operation_name = request.get("operationName")
        if not (
            isinstance(query, str)
            and isinstance(variables, dict | None)
            and isinstance(operation_name, str | None)
        ):
            return False
        plan = self.reads.known(query, operation_name)
        if plan is None or request_problem(query, variables) is not None:
            return False
        state: dict[str, Any] = scope.setdefault("state", {})
        try:
            ctx = await self.graphql.caller(headers, state["correlation_id"])
        except Exception as refusal:  # the app raises it again: its answer, its log
            state[PREPARED] = refusal
            return False
        state[PREPARED] = ctx
        new_request()  # as the router does before execution (api.http.consistency)
        data = await self.reads.execute_plan(ctx, self.schema, plan, variables)
        if data is None:
            ctx.compiled_tried = True
            return False
        payload = response_body({"data": data})
        # As Starlette's Response writes them (the router's path answers with one).
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(payload)).encode()),
                    (b"content-type", data_media_type(accept).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        return True


def _replaying(received: list[Message], receive: Receive) -> Receive:
    """`receive` giving the messages already taken first, then the rest as they come."""
    pending = list(received)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
