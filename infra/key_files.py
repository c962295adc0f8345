"""Secrets kept in files beside the SQLite database (the JWT secret, the signing key)
when the environment configures none: made once, readable only by their owner."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from infra.persistence import sqlite_path
from infra.private_files import ensure_owner_only
from infra.settings import Settings


def key_file(settings: Settings, suffix: str) -> Path | None:
    """`<database>.<suffix>` beside the SQLite database file; None on PostgreSQL and
    in memory, where there is no file to keep it beside."""
    if not settings.database.is_sqlite or sqlite_path(settings.database.url) == ":memory:":
        return None
    database = Path(sqlite_path(settings.database.url))
    return database.with_name(f"{database.name}.{suffix}")


def read_or_create(path: Path, new_value: Callable[[], str]) -> str:
    """The file's content; a missing file is first written with `new_value()`, mode 0600;
    one that others may read is narrowed to 0600, with a warning (infra.private_files)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name (mkstemp: mode 0600), then linked into
        # place: linking fails if the file exists, so of processes starting at once one
        # value wins, and nobody reads a file that is still being written.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(new_value())
            with suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    ensure_owner_only(path)
    return path.read_text().strip()
