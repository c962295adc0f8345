"""Read-model rows as GraphQL objects.

The GraphQL types of agreements, people and audit events are backed by the rows of
`projections.rows`, as dicts: one default resolver reads a field by its Python name
(which is the row's key), so no object is built per row and a new column is one
annotation on its type. Resolvers that compute a field take the row as `root`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from projections.rows import Row as Row  # the row contract's type, for the types here

T = TypeVar("T")


def read_field(root: Any, name: str) -> Any:
    """The schema's default resolver: a row's value by key, an object's by attribute."""
    if type(root) is dict:
        value = root[name]
        # SQLite hands back naive datetimes; every instant of ours is UTC.
        if type(value) is datetime and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
    return getattr(root, name)


def shown_as(_: type[T], row: Row) -> T:
    """A row, typed as the GraphQL type that reads it."""
    return cast(T, row)


def is_row_of(*keys: str) -> Callable[[Any, Any], bool]:
    """`is_type_of` of a type behind an interface: its rows are told by their keys."""

    def is_type_of(obj: Any, _info: Any) -> bool:
        return type(obj) is dict and all(key in obj for key in keys)

    return is_type_of
