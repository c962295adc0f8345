"""The JWT secret and the master key: from the environment, or generated once and kept
beside the SQLite database file, readable only by their owner."""

from __future__ import annotations

import base64
import secrets

from infra.key_files import key_file, read_or_create
from infra.settings import Settings


class MissingSecretError(RuntimeError):
    pass


def jwt_secret(settings: Settings, *, create: bool) -> str:
    """The configured secret; on SQLite without one, the file beside the database
    (created when `create`). PostgreSQL deployments must configure it."""
    if settings.auth.jwt_secret is not None:
        return settings.auth.jwt_secret.get_secret_value()
    path = key_file(settings, "jwt-secret")
    if path is None:
        raise MissingSecretError("Set CRAFTING_JWT_SECRET (at least 32 random characters).")
    if not create and not path.exists():
        raise MissingSecretError(
            f"No secret yet at {path}: start `crafting serve` once, or set CRAFTING_JWT_SECRET."
        )
    return read_or_create(path, lambda: secrets.token_urlsafe(48))


def master_key(settings: Settings) -> bytes:
    """The key that wraps every data key (infra.keystore): configured, or on SQLite the
    file beside the database. A PostgreSQL deployment must configure it (and keep it
    apart from the database's backups: the two together open the personal data)."""
    if settings.keys.master_key is not None:
        return base64.b64decode(settings.keys.master_key.get_secret_value())
    path = key_file(settings, "master-key")
    if path is None:
        raise MissingSecretError(
            "Set CRAFTING_MASTER_KEY (32 random bytes, base64: `crafting keys --new-master`)."
        )
    return base64.b64decode(read_or_create(path, new_master_key))


def new_master_key() -> str:
    """A fresh master key, base64."""
    return base64.b64encode(secrets.token_bytes(32)).decode()
