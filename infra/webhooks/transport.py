"""One delivery attempt over HTTP(S): to an address the guard accepted (so a name
cannot resolve elsewhere between the check and the connection), TLS verified against
the URL's host name, redirects not followed, every step bounded by the timeout, and
only a short excerpt of the response kept."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from infra.webhooks.guard import Address, RefusedAddressError, resolve

EXCERPT_BYTES = 200
USER_AGENT = "crafting-webhooks/1"


@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    status_code: int | None
    latency_ms: float
    error: str | None  # what went wrong, or the response's first bytes; never long


def _connected(address: Address, port: int, timeout: float | None) -> socket.socket:
    sock = socket.create_connection((str(address), port), timeout)
    # As http.client does: a request is one small write, and waiting for the previous
    # segment's acknowledgement (Nagle) cost 40 ms per delivery on a kept-alive
    # connection (delayed ACK): 22 deliveries/s instead of hundreds.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _connected(self._address, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = _connected(self._address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


class ReceiverConnection:
    """Attempts to one receiver, reusing the connection while the receiver keeps it
    open. The receiver's addresses are checked once per connection: every connection goes
    to the checked address, so a name that resolves elsewhere later cannot redirect it."""

    def __init__(self, url: str, *, timeout: float, allow_private: bool) -> None:
        self.url = url
        self.timeout = timeout
        self.allow_private = allow_private
        self._parts = urlsplit(url)
        self._path = (self._parts.path or "/") + (
            f"?{self._parts.query}" if self._parts.query else ""
        )
        self._target: tuple[Address, int] | None = None
        self._connection: http.client.HTTPConnection | None = None

    def __enter__(self) -> ReceiverConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def post(self, body: bytes, headers: dict[str, str]) -> AttemptResult:
        """POST `body`; 2xx is success, anything else (redirects included) a failure."""
        started = time.monotonic()
        if self._target is None:
            try:
                self._target = resolve(self.url, allow_private=self.allow_private)[0]
            except RefusedAddressError as error:
                return AttemptResult(False, None, 0.0, str(error)[:EXCERPT_BYTES])
        connection = self._connection or self._connect(self._target)
        try:
            connection.request(
                "POST", self._path, body=body, headers=headers | {"user-agent": USER_AGENT}
            )
            response = connection.getresponse()
            excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
            status = response.status
            # Reused only when the answer was read to its end and the receiver keeps
            # the connection open; bodies are never read beyond the excerpt.
            self._connection = (
                None if response.will_close or not response.isclosed() else connection
            )
            if self._connection is None:
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            self._connection = None
            latency = (time.monotonic() - started) * 1000
            reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
            return AttemptResult(False, None, latency, f"{reason}: {error}"[:EXCERPT_BYTES])
        latency = (time.monotonic() - started) * 1000
        ok = 200 <= status < 300
        return AttemptResult(ok, status, latency, None if ok else " ".join(excerpt.split()) or None)

    def _connect(self, target: tuple[Address, int]) -> http.client.HTTPConnection:
        address, port = target
        kind = _PinnedHTTPS if self._parts.scheme == "https" else _PinnedHTTP
        return kind(self._parts.hostname or "", port, address, self.timeout)


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> AttemptResult:
    """One attempt on a connection of its own."""
    with ReceiverConnection(url, timeout=timeout, allow_private=allow_private) as connection:
        return connection.post(body, headers)
