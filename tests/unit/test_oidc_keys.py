"""The provider's key cache (api.http.jwks) with a fake provider and a fake clock: one
fetch for a burst of unknown key ids, at most one per interval, 503 once stale."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from api.http.jwks import KeySet, ProviderUnavailableError, UnknownKeyError

ISSUER = "https://idp.example/realms/acme"


class FakeProvider:
    def __init__(self) -> None:
        self.keys = [{"kty": "RSA", "kid": "k1", "n": "x", "e": "AQAB"}]
        self.fetches = 0
        self.up = True
        self.slow = 0.0
        self.lock = threading.Lock()

    def __call__(self, url: str) -> Mapping[str, Any]:
        if not self.up:
            raise OSError("connection refused")
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": ISSUER, "jwks_uri": ISSUER + "/jwks"}
        with self.lock:
            self.fetches += 1
        time.sleep(self.slow)
        return {"keys": list(self.keys)}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keyset(provider: FakeProvider, clock: Clock, min_interval: float = 30) -> KeySet:
    return KeySet(ISSUER, fresh_for=600, min_interval=min_interval, fetch=provider, clock=clock)


def test_a_burst_of_unknown_key_ids_is_one_fetch() -> None:
    provider, clock = FakeProvider(), Clock()
    keys = keyset(provider, clock)
    assert keys.key("k1")["kid"] == "k1" and provider.fetches == 1
    provider.slow = 0.05

    def made_up(i: int) -> str:
        try:
            keys.key(f"made-up-{i}")
        except UnknownKeyError:
            return "unknown"
        return "found"

    clock.now += 31
    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(made_up, range(200))) == {"unknown"}
    assert provider.fetches == 2  # one refresh for the whole burst
    clock.now += 5
    with pytest.raises(UnknownKeyError):
        keys.key("made-up-again")
    assert provider.fetches == 2  # within the interval: no fetch at all


def test_a_rotated_key_is_found_by_one_refresh() -> None:
    provider, clock = FakeProvider(), Clock()
    keys = keyset(provider, clock, min_interval=0)
    keys.key("k1")
    provider.keys.insert(0, {"kty": "RSA", "kid": "k2", "n": "y", "e": "AQAB"})
    assert keys.key("k2")["kid"] == "k2" and provider.fetches == 2
    assert keys.key("k1")["kid"] == "k1" and provider.fetches == 2


def test_stale_keys_and_a_provider_that_is_down_are_unavailable() -> None:
    provider, clock = FakeProvider(), Clock()
    keys = keyset(provider, clock)
    keys.key("k1")
    provider.up = False
    clock.now += 599
    assert keys.key("k1")["kid"] == "k1"  # still fresh: no request needed
    clock.now += 2
    with pytest.raises(ProviderUnavailableError):
        keys.key("k1")
    provider.up = True
    with pytest.raises(ProviderUnavailableError):
        keys.key("k1")  # the failed try was just now: not again yet
    clock.now += 30
    assert keys.key("k1")["kid"] == "k1"


def test_a_discovery_document_naming_another_issuer_is_not_trusted() -> None:
    def lying(url: str) -> Mapping[str, Any]:
        return {"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"}

    keys = KeySet(ISSUER, fresh_for=600, min_interval=0, fetch=lying)
    with pytest.raises(ProviderUnavailableError):
        keys.key("k1")


def test_private_and_encryption_keys_are_not_used() -> None:
    provider, clock = FakeProvider(), Clock()
    provider.keys = [
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": "x", "e": "AQAB"},
        {"kty": "RSA", "kid": "priv", "n": "x", "e": "AQAB", "d": "secret"},
        {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
    ]
    keys = keyset(provider, clock)
    for kid in ("enc", "priv", "sym"):
        with pytest.raises(UnknownKeyError):
            keys.key(kid)
