"""One delivery attempt: refused before connecting when the receiver's address is not
public (checked on every attempt, not only when subscribing), bounded by the timeout,
and keeping only an excerpt of what the receiver answered."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from infra.webhooks.transport import EXCERPT_BYTES, post
from tests.processes import free_port
from tests.webhook_receiver import receiving


def test_a_loopback_receiver_is_refused_at_delivery_time_without_a_connection() -> None:
    with receiving() as receiver:
        result = post(receiver.url, b"{}", {}, timeout=2, allow_private=False)
        assert not result.ok and result.status_code is None
        assert "private, loopback or link-local" in (result.error or "")
        assert receiver.requests == 0
        allowed = post(receiver.url, b"{}", {}, timeout=2, allow_private=True)
        assert receiver.requests == 1 and allowed.status_code == 401  # unsigned


def test_an_attempt_is_bounded_by_the_timeout_and_keeps_only_an_excerpt() -> None:
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path == "/slow":
                release.wait(30)
            body = b"x" * 10_000
            self.send_response(500)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        slow = post(f"{base}/slow", b"{}", {}, timeout=0.5, allow_private=True)
        assert not slow.ok and slow.status_code is None and "timed out" in (slow.error or "")
        loud = post(f"{base}/loud", b"{}", {}, timeout=5, allow_private=True)
        assert loud.status_code == 500 and not loud.ok
        assert loud.error is not None and len(loud.error) <= EXCERPT_BYTES
    finally:
        release.set()
        server.shutdown()
        server.server_close()
