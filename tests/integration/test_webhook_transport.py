"""One delivery attempt: refused before connecting when the receiver's address is not
public (checked on every attempt, not only when subscribing), bounded by the timeout,
and keeping only an excerpt of what the receiver answered."""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from domain.errors import InvalidInput
from infra.webhooks.guard import is_public, url_guard
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


# What a receiver's name may resolve to and must never be reached at: IPv6 forms that
# embed a private IPv4 address, deprecated and special-purpose ranges.
REFUSED_ANSWERS = [
    "64:ff9b::a9fe:a9fe",
    "::7f00:1",
    "::a9fe:a9fe",
    "64:ff9b:1::a00:1",
    "2002:a9fe:a9fe::1",
    "::ffff:0:a9fe:a9fe",
    "::ffff:169.254.169.254",
    "fec0::1",
    "192.0.0.8",
    "192.88.99.1",
    "100.64.0.1",
    "198.18.0.1",
    "240.0.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "2001:db8::1",
    "2001::1",
    "fc00::1",
    "ff02::1",
]


def _answering(monkeypatch: pytest.MonkeyPatch, address: str) -> list[str]:
    """Name resolution that answers `address` for every name; the names asked for."""
    asked: list[str] = []
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def getaddrinfo(host: str, port: int, *_: Any, **__: Any) -> list[Any]:
        asked.append(host)
        sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("address", REFUSED_ANSWERS)
def test_a_name_resolving_to_a_special_address_is_refused_at_delivery_time(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    asked = _answering(monkeypatch, address)
    connected: list[object] = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connected.append(a))
    result = post("https://hooks.example.test/x", b"{}", {}, timeout=2, allow_private=False)
    assert asked == ["hooks.example.test"]
    assert not result.ok and result.status_code is None and not connected
    assert "private, loopback or link-local" in (result.error or "")


@pytest.mark.parametrize("address", REFUSED_ANSWERS)
def test_a_name_resolving_to_a_special_address_is_refused_when_subscribing(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    _answering(monkeypatch, address)
    with pytest.raises(InvalidInput, match="private, loopback or link-local") as refused:
        url_guard(allow_private=False)("https://hooks.example.test/x")
    assert refused.value.field == "url"
    url_guard(allow_private=True)("https://hooks.example.test/x")  # development allows it


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"],
)
def test_public_addresses_and_forms_embedding_one_pass_the_guard(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
