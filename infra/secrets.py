"""The JWT secret: from the environment, or generated once and kept beside the
SQLite database file, readable only by its owner."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from infra.persistence import sqlite_path
from infra.settings import Settings


class MissingSecretError(RuntimeError):
    pass


def secret_file(settings: Settings) -> Path:
    database = Path(sqlite_path(settings.database_url))
    return database.with_name(database.name + ".jwt-secret")


def jwt_secret(settings: Settings, *, create: bool) -> str:
    """The configured secret; on SQLite without one, the file beside the database
    (created when `create`). PostgreSQL deployments must configure it."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if not settings.is_sqlite or sqlite_path(settings.database_url) == ":memory:":
        raise MissingSecretError("Set CRAFTING_JWT_SECRET (at least 32 random characters).")
    path = secret_file(settings)
    if not path.exists():
        if not create:
            raise MissingSecretError(
                f"No secret yet at {path}: start `crafting serve` once, or set CRAFTING_JWT_SECRET."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once cannot overwrite each other's secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
