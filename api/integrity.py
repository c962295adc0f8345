"""What an integrity check of one agreement found, for every front door that shows it
(GraphQL's `verifyIntegrity`, the web app's badge): its hash chain, and whether the
latest checkpoint is signed by a key this service trusts."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from domain.integrity import checkpoint_message, signature_valid


@dataclass(frozen=True)
class CheckpointCheck:
    position: int
    size: int
    root: str
    recorded_at: str
    signature: str
    public_key: str
    public_key_trusted: bool  # the key is one this service trusts (its own, or configured)
    signature_valid: bool  # signed by a trusted key, and the signature matches


def checkpoint_check(row: dict[str, Any], trusted: frozenset[str]) -> CheckpointCheck:
    """A stored checkpoint, its key and signature judged."""
    position, size = int(str(row["position"])), int(str(row["size"]))
    root, at = str(row["root"]), str(row["recorded_at"])
    signature, key = str(row["signature"]), str(row["public_key"])
    message = checkpoint_message(position, size, root, at)
    return CheckpointCheck(
        position=position,
        size=size,
        root=root,
        recorded_at=at,
        signature=signature,
        public_key=key,
        public_key_trusted=key in trusted,
        signature_valid=key in trusted and signature_valid(key, message, signature),
    )


def key_fingerprint(public_key_b64: str) -> str:
    """A public key's SHA-256 fingerprint in groups of four hex digits (the first 128
    bits): short enough to compare by eye; pages show the whole key beside it."""
    try:
        raw = base64.b64decode(public_key_b64, validate=True)
    except (binascii.Error, ValueError):
        raw = public_key_b64.encode()
    digest = hashlib.sha256(raw).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))
