"""Around every HTTP request: correlation id, body size limit, metrics, one log line,
and a clean 500 for anything unexpected.

Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs
the app in a separate task and streams the response through memory channels, which
cost a measurable share of a small request (bench/commands_e2e.py)."""

from __future__ import annotations

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
TOO_LARGE = {"error": f"Request body too large (at most {MAX_BODY_BYTES:,} bytes)."}
KNOWN_PATHS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_READ_HEADERS = frozenset({b"x-correlation-id", b"content-length"})


class BodyTooLargeError(Exception):
    """The body grew past MAX_BODY_BYTES while it was read (chunked, or a
    Content-Length that understated it)."""


def _limited(receive: Receive) -> Receive:
    """`receive`, counting the body's bytes as they arrive: a body sent without a
    Content-Length (chunked) is held to the same limit, and never kept whole."""
    received = 0

    async def receive_limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise BodyTooLargeError()
        return message

    return receive_limited


class RequestMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
                    *message.get("headers", ()),
                    (b"x-correlation-id", correlation.encode()),
                ]
            await send(message)

        try:
            if _too_long(headers.get(b"content-length")):
                await _json(send_with_id, 413, TOO_LARGE)
            else:
                await self.app(scope, _limited(receive), send_with_id)
        except BodyTooLargeError:
            if started_response:
                raise
            await _json(send_with_id, 413, TOO_LARGE)
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


def _too_long(length: bytes | None) -> bool:
    try:
        return int(length or 0) > MAX_BODY_BYTES
    except ValueError:
        return True


async def _json(send: Any, status: int, body: dict[str, str]) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
