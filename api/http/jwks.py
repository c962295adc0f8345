"""The identity provider's discovery document and signing keys (JWKS), cached in memory
and shared by every request of the process.

The keys are fetched when first needed, again once they are older than `fresh_for`, and
again when a token names a key id we do not know (the provider rotated its key) — but
never more often than `min_interval`, so a flood of tokens with made-up key ids costs the
provider one request, not one per token. Concurrent callers needing a fetch wait for the
one under way (a lock), then read its result. Once the keys are stale and the provider
does not answer, every provider token is refused with ProviderUnavailableError (503)
until it answers again: keys the provider may have withdrawn are not trusted forever."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger("crafting.oidc")
FETCH_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 512_000

Fetch = Callable[[str], Mapping[str, Any]]


class ProviderUnavailableError(Exception):
    """The identity provider does not answer and what we hold of it is stale."""


class UnknownKeyError(Exception):
    """The token names a key the provider does not publish (or the fetch was too recent)."""


def fetch_json(url: str) -> Mapping[str, Any]:
    """GET a JSON object (OSError for anything but one: the provider is unusable)."""
    try:
        response = httpx.get(url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False)
        response.raise_for_status()
        if len(response.content) > MAX_DOCUMENT_BYTES:
            raise OSError(f"{url} answered with more than {MAX_DOCUMENT_BYTES} bytes")
        body = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise OSError(f"{url}: {type(error).__name__}") from None
    if not isinstance(body, dict):
        raise OSError(f"{url} did not answer with a JSON object")
    return body


@dataclass(frozen=True)
class Discovery:
    """What we use of the provider's discovery document."""

    issuer: str
    jwks_uri: str
    authorization_endpoint: str | None
    token_endpoint: str | None
    end_session_endpoint: str | None


class KeySet:
    """The provider's discovery document and its signing keys (public JWKs by key id)."""

    def __init__(
        self,
        issuer: str,
        *,
        fresh_for: float,
        min_interval: float,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self.fresh_for = fresh_for
        self.min_interval = min_interval
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._discovery: Discovery | None = None
        self._keys: dict[str, Mapping[str, Any]] = {}
        self._fetched_at: float | None = None  # keys: last success
        self._attempted_at: float | None = None  # keys: last try
        self._discovery_attempted_at: float | None = None

    def cached(self, kid: str | None) -> Mapping[str, Any] | None:
        """The key, when it is known and fresh (no I/O: safe on the event loop)."""
        fetched_at, keys = self._fetched_at, self._keys
        if fetched_at is None or self._clock() - fetched_at >= self.fresh_for:
            return None
        return _pick(keys, kid)

    def key(self, kid: str | None) -> Mapping[str, Any]:
        """The public JWK for `kid`, fetching the keys if needed (blocking).
        UnknownKeyError: not published; ProviderUnavailableError: stale and unreachable."""
        found = self.cached(kid)
        if found is not None:
            return found
        with self._lock:  # one fetch at a time; the others then read its result
            found = self.cached(kid)
            if found is not None:
                return found
            self._refresh_if_allowed()
            if not self._fresh():
                raise ProviderUnavailableError("the identity provider's keys are unavailable")
            found = _pick(self._keys, kid)
            if found is None:
                raise UnknownKeyError("the token's key is not one the provider publishes")
            return found

    def discovery(self) -> Discovery:
        """The discovery document, fetched once (retried at most every min_interval)."""
        if self._discovery is not None:
            return self._discovery
        with self._lock:
            if self._discovery is None:
                # A failed discovery is retried at most every min_interval, as the keys.
                last = self._discovery_attempted_at
                if last is not None and self._clock() - last < self.min_interval:
                    raise ProviderUnavailableError("the identity provider does not answer")
                self._discovery_attempted_at = self._clock()
                self._discovery = self._discover()
            return self._discovery

    def _fresh(self) -> bool:
        return self._fetched_at is not None and self._clock() - self._fetched_at < self.fresh_for

    def _may_fetch(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= self.min_interval

    def _refresh_if_allowed(self) -> None:
        if not self._may_fetch():
            return
        self._attempted_at = self._clock()
        try:
            discovery = self._discovery or self._discover()
            self._discovery = discovery
            keys = _signing_keys(self._fetch(discovery.jwks_uri))
        except (OSError, ProviderUnavailableError) as error:
            # Logged without the URL's answer; the caller gets a 503 once stale.
            log.warning("could not fetch the identity provider's keys: %s", error)
            return
        self._keys, self._fetched_at = keys, self._clock()

    def _discover(self) -> Discovery:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            document = self._fetch(url)
        except OSError as error:
            log.warning("could not fetch the discovery document: %s", error)
            raise ProviderUnavailableError("the identity provider does not answer") from None
        # OpenID Connect Discovery 1.0 section 4.3: the document must name the issuer
        # we asked, exactly, or its keys are someone else's.
        if document.get("issuer") != self.issuer or not isinstance(document.get("jwks_uri"), str):
            log.error("the discovery document at %s names another issuer or no jwks_uri", url)
            raise ProviderUnavailableError("the identity provider's discovery does not match")

        def text(name: str) -> str | None:
            value = document.get(name)
            return value if isinstance(value, str) and value else None

        return Discovery(
            self.issuer,
            document["jwks_uri"],
            text("authorization_endpoint"),
            text("token_endpoint"),
            text("end_session_endpoint"),
        )


def _signing_keys(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The JWKS's public signing keys by key id (encryption keys and keys with private
    parts are left out)."""
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise OSError("the JWKS has no keys list")
    found: dict[str, Mapping[str, Any]] = {}
    for index, key in enumerate(keys):
        if not isinstance(key, dict) or key.get("use", "sig") != "sig":
            continue
        if key.get("kty") not in ("RSA", "EC") or "d" in key:
            continue
        kid = key.get("kid")
        found[kid if isinstance(kid, str) else f"#{index}"] = key
    return found


def _pick(keys: Mapping[str, Mapping[str, Any]], kid: str | None) -> Mapping[str, Any] | None:
    if kid is not None:
        return keys.get(kid)
    # A token without a key id is only usable when the provider has one key.
    return next(iter(keys.values())) if len(keys) == 1 else None
