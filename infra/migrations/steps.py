"""Helpers the migration scripts share."""

from __future__ import annotations

from typing import Any

from alembic import op
from sqlalchemy import inspect


def has_table(name: str) -> bool:
    """Whether the database (the connection's schema) holds the table."""
    return inspect(op.get_bind()).has_table(name)


def create_table_if_missing(name: str, *columns: Any, **kw: Any) -> bool:
    """Create the table unless it exists: a baseline meets databases that a release
    before migrations made with `create_all`. True when it was created."""
    if has_table(name):
        return False
    op.create_table(name, *columns, **kw)
    return True


def create_index_if_missing(name: str, table: str, columns: list[str]) -> None:
    """Create the index unless the table has it (tables made from today's model, by a
    process that met the database before this migration, hold it already)."""
    if name not in {index["name"] for index in inspect(op.get_bind()).get_indexes(table)}:
        op.create_index(name, table, columns)


def is_sqlite() -> bool:
    """Whether the migration runs on SQLite (its ALTER TABLE recreates the table)."""
    return bool(op.get_bind().dialect.name == "sqlite")
