"""Secrets kept in files beside the SQLite database (the JWT secret, the signing key)
when the environment configures none: made once, readable only by their owner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from infra.persistence import sqlite_path
from infra.settings import Settings


def key_file(settings: Settings, suffix: str) -> Path | None:
    """`<database>.<suffix>` beside the SQLite database file; None on PostgreSQL and
    in memory, where there is no file to keep it beside."""
    if not settings.is_sqlite or sqlite_path(settings.database_url) == ":memory:":
        return None
    database = Path(sqlite_path(settings.database_url))
    return database.with_name(f"{database.name}.{suffix}")


def read_or_create(path: Path, new_value: Callable[[], str]) -> str:
    """The file's content; a missing file is first written with `new_value()`, mode 0600."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: of two processes starting at once, one writes and both read its value.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(new_value())
    return path.read_text().strip()
