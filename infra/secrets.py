"""The JWT secret: from the environment, or generated once and kept beside the
SQLite database file, readable only by its owner."""

from __future__ import annotations

import secrets

from infra.key_files import key_file, read_or_create
from infra.settings import Settings


class MissingSecretError(RuntimeError):
    pass


def jwt_secret(settings: Settings, *, create: bool) -> str:
    """The configured secret; on SQLite without one, the file beside the database
    (created when `create`). PostgreSQL deployments must configure it."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = key_file(settings, "jwt-secret")
    if path is None:
        raise MissingSecretError("Set CRAFTING_JWT_SECRET (at least 32 random characters).")
    if not create and not path.exists():
        raise MissingSecretError(
            f"No secret yet at {path}: start `crafting serve` once, or set CRAFTING_JWT_SECRET."
        )
    return read_or_create(path, lambda: secrets.token_urlsafe(48))
