"""The Ed25519 key that signs checkpoints: CRAFTING_SIGNING_KEY (base64 of the 32-byte
private key), or on SQLite a key generated once beside the database file."""

from __future__ import annotations

import base64
from contextlib import suppress

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from infra.key_files import key_file, read_or_create
from infra.settings import Settings


class MissingSigningKeyError(RuntimeError):
    pass


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The configured key; on SQLite without one, the key file beside the database."""
    if settings.keys.signing_key is not None:
        raw = base64.b64decode(settings.keys.signing_key.get_secret_value())
        return Ed25519PrivateKey.from_private_bytes(raw)
    path = key_file(settings, "signing-key")
    if path is None:
        raise MissingSigningKeyError(
            "Set CRAFTING_SIGNING_KEY (base64 Ed25519 private key; `crafting keys --new`)."
        )
    return Ed25519PrivateKey.from_private_bytes(
        base64.b64decode(read_or_create(path, new_private_key))
    )


def new_private_key() -> str:
    """A fresh private key, base64."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """What auditors hold."""
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def trusted_public_keys(settings: Settings) -> frozenset[str]:
    """The public keys whose checkpoint signatures count: our signing key's, and the
    earlier ones an operator still trusts after a rotation (CRAFTING_TRUSTED_PUBLIC_KEYS).
    Never the key a checkpoint row names: whoever can write the row can name any key."""
    keys = {k.strip() for k in settings.keys.trusted_public_keys.split(",") if k.strip()}
    with suppress(MissingSigningKeyError):
        keys.add(public_key_b64(signing_key(settings)))
    return frozenset(keys)


def events_key(settings: Settings) -> bytes | None:
    """The key the service tags its events with, when this process holds the signing key."""
    try:
        return tag_key(signing_key(settings), "events")
    except MissingSigningKeyError:
        return None


def tag_key(key: Ed25519PrivateKey, purpose: str) -> bytes:
    """A 32-byte key for HMAC tags (`purpose`: what it tags), derived from the signing
    key with HKDF: one secret to keep, and keys that each serve one purpose."""
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    hkdf = HKDF(algorithm=SHA256(), length=32, salt=None, info=f"crafting/{purpose}".encode())
    return hkdf.derive(raw)


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode()
