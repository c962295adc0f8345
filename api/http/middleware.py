"""Around every HTTP request: correlation id, a refusal of NUL in the address, body size
and read-time limits, metrics, one log line, and a clean 500 for anything unexpected.

Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs
the app in a separate task and streams the response through memory channels, which
cost a measurable share of a small request (bench/commands_e2e.py)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any
from uuid import uuid4

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http import logs
from api.http.metrics import LATENCY, REQUESTS

log = logging.getLogger("crafting.http")
MAX_BODY_BYTES = 1_000_000
BODY_SECONDS = 20.0  # the default of `request_body_seconds`
TOO_LARGE = {"error": f"Request body too large (at most {MAX_BODY_BYTES:,} bytes)."}
NUL_IN_ADDRESS = {"error": "The address contains a NUL character (%00)."}
# The same for a person in the web app (every path but the APIs'): a page, not JSON.
NUL_IN_ADDRESS_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
    b'<meta name="viewport" content="width=device-width, initial-scale=1">'
    b"<title>This address is not valid</title></head><body><main>"
    b"<h1>This address is not valid</h1><p>It contains a character no page of this "
    b'service has (%00). Check the link, or <a href="/">go to the start page</a>.</p>'
    b"</main></body></html>"
)
API_PREFIXES = ("/graphql", "/scim/", "/metrics", "/healthz", "/readyz")
KNOWN_PATHS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_READ_HEADERS = frozenset({b"x-correlation-id", b"content-length"})
# What an HTTP server refuses in a header value (it drops the connection rather than
# answer): control characters but the tab.
_NOT_IN_HEADER = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class BodyRefusedError(Exception):
    """The request body broke a limit while it was read; the middleware answers."""

    status = 400
    body: dict[str, str] = {}


class BodyTooLargeError(BodyRefusedError):
    """The body grew past MAX_BODY_BYTES while it was read (chunked, or a
    Content-Length that understated it)."""

    status = 413
    body = TOO_LARGE


class BodyTooSlowError(BodyRefusedError):
    """The body did not arrive whole within the read deadline (a slow client holding a
    connection and a worker's memory)."""

    status = 408
    body = {"error": "The request body took too long to arrive."}


def _limited(receive: Receive, deadline: float) -> Receive:
    """`receive`, counting the body's bytes as they arrive and bounding the time until
    its last part: a body sent without a Content-Length (chunked) is held to the same
    size, and a client trickling bytes to the same deadline. Once the body is whole,
    later receives (waiting for a disconnect) are not bounded."""
    received = 0
    whole = False

    async def receive_limited() -> Message:
        nonlocal received, whole
        if whole:
            return await receive()
        try:
            async with asyncio.timeout_at(deadline):  # no task per receive: cheap
                message = await receive()
        except TimeoutError:
            raise BodyTooSlowError() from None
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise BodyTooLargeError()
            whole = not message.get("more_body", False)
        return message

    return receive_limited


def _nul_in_address(scope: Scope) -> bool:
    """A NUL in the path or the query string: no route or parameter of ours holds one,
    and PostgreSQL's text cannot store one (a query with it fails deep inside)."""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


class RequestMiddleware:
    def __init__(self, app: ASGIApp, body_seconds: float = BODY_SECONDS) -> None:
        self.app = app
        self.body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k: v for k, v in scope["headers"] if k in _READ_HEADERS}
        given = headers.get(b"x-correlation-id", b"").decode("latin-1")
        correlation = given if _CORRELATION.match(given) else str(uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation
        token = logs.correlation_id.set(correlation)
        started = time.perf_counter()
        path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
        status = 500
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message["headers"] = [
                    *map(_sendable, message.get("headers", ())),
                    (b"x-correlation-id", correlation.encode()),
                ]
            await send(message)

        try:
            if _too_long(headers.get(b"content-length")):
                await _json(send_with_id, 413, TOO_LARGE)
            elif _nul_in_address(scope):
                await _nul_refused(scope["path"], send_with_id)
            else:
                deadline = asyncio.get_running_loop().time() + self.body_seconds
                await self.app(scope, _limited(receive, deadline), send_with_id)
        except BodyRefusedError as refused:
            if started_response:
                raise
            await _json(send_with_id, refused.status, refused.body, close=True)
        except Exception:
            log.exception("unhandled error")
            if started_response:
                raise
            await _json(send_with_id, 500, {"error": "Unexpected error."})
        finally:
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], path, str(status)).inc()
            LATENCY.labels(path).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            logs.correlation_id.reset(token)


def _sendable(header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    """The header with any control character in its value percent-encoded (one built
    from request input, such as a Location), so the response can still be sent."""
    name, value = header
    if _NOT_IN_HEADER.search(value) is None:
        return header
    return name, _NOT_IN_HEADER.sub(lambda m: b"%%%02X" % m.group()[0], value)


async def _nul_refused(path: str, send: Any) -> None:
    """400: JSON for the APIs, a page for a person in the web app."""
    if path.startswith(API_PREFIXES):
        await _json(send, 400, NUL_IN_ADDRESS)
        return
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(NUL_IN_ADDRESS_PAGE)).encode()),
    ]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": NUL_IN_ADDRESS_PAGE})


def _too_long(length: bytes | None) -> bool:
    try:
        return int(length or 0) > MAX_BODY_BYTES
    except ValueError:
        return True


async def _json(send: Any, status: int, body: dict[str, str], *, close: bool = False) -> None:
    """A JSON answer; `close` ends the connection after it (a body left unread)."""
    payload = orjson.dumps(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
