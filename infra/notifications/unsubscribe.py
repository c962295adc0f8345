"""Signed one-click unsubscribe links (RFC 8058): each names one person and one kind,
works without a session, and cannot be turned into another person's or kind's."""

from __future__ import annotations

import base64
import hashlib
import hmac

from infra.notifications.kinds import Kind

_PURPOSE = b"crafting:notifications:unsubscribe"


def link_key(secret: str) -> bytes:
    """The key unsubscribe links are signed with, derived from the service's secret."""
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_token(key: bytes, person_id: str, kind: Kind) -> str:
    """The token of the link that turns `kind` off for `person_id`."""
    body = _b64(f"{kind.value}\n{person_id}".encode())
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()[:18]
    return f"{body}.{_b64(mac)}"


def read_token(key: bytes, token: str) -> tuple[str, Kind] | None:
    """(person id, kind) of a valid token; None for anything altered or malformed."""
    body, _, mac = token.partition(".")
    if not body or not mac or len(token) > 600:
        return None
    expected = hmac.new(key, body.encode(), hashlib.sha256).digest()[:18]
    try:
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        kind, _, person_id = _unb64(body).decode().partition("\n")
        return person_id, Kind(kind)
    except (ValueError, UnicodeDecodeError):
        return None
