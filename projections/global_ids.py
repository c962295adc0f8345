"""Relay global ids (`Agreement:<uuid>`, base64url, unpadded), encoded in this one place:
GraphQL names nodes by them and webhook bodies carry them beside the bare UUIDs."""

from __future__ import annotations

import base64


def encoded(text: str) -> str:
    """`text` as an opaque token (base64url, no padding)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def global_id(type_name: str, key: str) -> str:
    """A Relay global id: the type and the key, opaque."""
    return encoded(f"{type_name}:{key}")
