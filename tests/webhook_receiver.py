"""A webhook receiver for the tests: a real HTTP server that verifies every delivery
with the `standardwebhooks` library (never with our code), deduplicates on
`webhook-id` as receivers are told to, and can misbehave on purpose: fail at random,
answer too slowly, hold a request, or be down."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.processes import free_port


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    secrets: list[str] = field(default_factory=list)
    fail_rate: float = 0.0  # share of requests answered 500 before looking at them
    slow_first: int = 0  # this many requests are answered after `slow_seconds`
    slow_seconds: float = 0.0
    hold_at: int | None = None  # the n-th accepted request waits for `release`
    accepted: list[dict[str, Any]] = field(default_factory=list)  # first time per id
    duplicates: list[str] = field(default_factory=list)  # ids seen again
    requests: int = 0
    rejected: list[str] = field(default_factory=list)  # failed verification
    signatures: list[str] = field(default_factory=list)  # webhook-signature headers
    held = threading.Event()
    release = threading.Event()

    def __post_init__(self) -> None:
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._rng = random.Random(7)
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def ids(self) -> list[str]:
        with self._lock:
            return [body["_id"] for body in self.accepted]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                status = receiver.handle(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        # `shutdown()` waits for the loop's next look at its flag: every 0.5 s by default,
        # which each test ending with a receiver paid once.
        serve = partial(self._server.serve_forever, poll_interval=0.02)
        threading.Thread(target=serve, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        lowered = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self.requests += 1
            count = self.requests
            roll = self._rng.random()
        if count <= self.slow_first:
            time.sleep(self.slow_seconds)
            return 200  # too late: the sender gave up already
        if roll < self.fail_rate:
            return 500
        payload = None
        for secret in self.secrets:
            try:
                payload = Webhook(secret).verify(body, lowered)
                break
            except WebhookVerificationError:
                continue
        if payload is None:
            with self._lock:
                self.rejected.append(lowered.get("webhook-id", "?"))
            return 401
        message_id = lowered["webhook-id"]
        with self._lock:
            self.signatures.append(lowered["webhook-signature"])
            if message_id in {b["_id"] for b in self.accepted}:
                self.duplicates.append(message_id)
                return 200
            self.accepted.append({"_id": message_id, **json.loads(body)})
            accepted = len(self.accepted)
        if self.hold_at is not None and accepted == self.hold_at:
            self.held.set()
            self.release.wait(60)
            return 200
        return 200


@contextmanager
def receiving(**options: Any) -> Iterator[Receiver]:
    receiver = Receiver(**options)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        receiver.stop()


def in_order_per_agreement(accepted: list[dict[str, Any]]) -> bool:
    """Each agreement's (and person's) events were accepted in log order."""
    last: dict[str, int] = {}
    for body in accepted:
        if body["type"] == "review.due":
            continue
        key = body.get("agreementId") or body.get("personId") or ""
        if body["position"] <= last.get(key, 0):
            return False
        last[key] = body["position"]
    return True
