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


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self._address), self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((str(self._address), self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> AttemptResult:
    """POST `body`; 2xx is success, anything else (redirects included) a failure."""
    started = time.monotonic()
    try:
        targets = resolve(url, allow_private=allow_private)
    except RefusedAddressError as error:
        return AttemptResult(False, None, 0.0, str(error)[:EXCERPT_BYTES])
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    address, port = targets[0]
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = kind(parts.hostname or "", port, address, timeout)
    try:
        connection.request("POST", path, body=body, headers=headers | {"user-agent": USER_AGENT})
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        latency = (time.monotonic() - started) * 1000
        reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
        return AttemptResult(False, None, latency, f"{reason}: {error}"[:EXCERPT_BYTES])
    finally:
        connection.close()
    latency = (time.monotonic() - started) * 1000
    ok = 200 <= status < 300
    return AttemptResult(ok, status, latency, None if ok else " ".join(excerpt.split()) or None)
