"""A lean ASGI route for POST /graphql: answered without FastAPI's routing and
dependencies or strawberry's HTTP view — a compiled document by its plan
(api.graphql.compiled), any other (mutations above all) by strawberry's schema execution.

Around a compiled page, FastAPI/Starlette and strawberry's machinery were ~45% of a
worker's Python (bench/RESULTS.md, HRIS read); around a mutation, most of the event
loop's own CPU (bench/RESULTS.md, eleventh session). This route sits inside
RequestMiddleware (correlation id, body limits, metrics and the log line are the same
for both paths) and in front of the app.
It answers a JSON body of `query`, `variables` and `operationName` that the router's
hygiene check passes, from a caller the router's own check accepts: by the plan when the
text was compiled before and the plan serves the arguments, else by `Schema.execute`
called as strawberry's view calls it, its result made a response by the router's own
`process_result` and `create_response`. Anything else — a body it does not read as that,
a refused caller, an operation strawberry refuses before execution — goes on to the app
with the body replayed, and the context or the refusal it met (`PREPARED`), so the token
is checked and the rate limit taken once, and every error is the app's own. Tests compare
both paths byte for byte (tests/e2e/test_compiled_route.py).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from api.graphql.context import Context
from api.graphql.hygiene import request_problem
from api.graphql.router import PREPARED, CraftingGraphQLRouter, data_media_type, response_body
from api.http.consistency import new_request

PATH = "/graphql"
_POST = OperationType.from_http("POST")
# The router's create_response takes strawberry's sub-response and ignores it.
_NO_SUB_RESPONSE = Response()
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
        if not (scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH):
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
        """Answer the request unless the app must: see the module docstring."""
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
        if request_problem(query, variables) is not None:
            return False  # BAD_REQUEST: the router's own answer
        state: dict[str, Any] = scope.setdefault("state", {})
        try:
            ctx = await self.graphql.caller(headers, state["correlation_id"])
        except Exception as refusal:  # the app raises it again: its answer, its log
            state[PREPARED] = refusal
            return False
        state[PREPARED] = ctx
        new_request()  # as the router does before execution (api.http.consistency)
        plan = self.reads.known(query, operation_name) if self.on else None
        if plan is None:
            return await self._executed(scope, ctx, query, variables, operation_name, send)
        data = await self.reads.execute_plan(ctx, self.schema, plan, variables)
        if data is None:
            ctx.compiled_tried = True
            return await self._executed(scope, ctx, query, variables, operation_name, send)
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

    async def _executed(
        self,
        scope: Scope,
        ctx: Context,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        send: Send,
    ) -> bool:
        """Any other document (mutations above all) executed by strawberry's schema as
        its view would (`AsyncBaseHTTPView.execute_single`, POST), answered by the
        router's own `process_result` and `create_response`."""
        try:
            result = await self.graphql.schema.execute(
                query,
                root_value=None,  # the router's root_value_getter gives None
                variable_values=variables,
                context_value=ctx,
                operation_name=operation_name,
                allowed_operation_types=_POST,
                operation_extensions=None,
            )
        except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError):
            # Raised before execution: the app meets it again and answers its own 400.
            return False
        request = Request(scope)
        response_data = await self.graphql.process_result(request, result)
        if result.errors:
            self.graphql._handle_errors(result.errors, response_data)
        response = self.graphql.create_response(response_data, _NO_SUB_RESPONSE)
        await response(scope, _no_receive, send)
        return True


async def _no_receive() -> Message:
    raise AssertionError("a Response sends; it does not receive")


def _replaying(received: list[Message], receive: Receive) -> Receive:
    """`receive` giving the messages already taken first, then the rest as they come."""
    pending = list(received)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
