"""What every list and every read shares: page sizes, Relay page info, and waiting for
the read models to catch up with a caller's own write (read-your-writes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry

from api.graphql.context import Context
from api.graphql.errors import BadInputError, NotYetConsistentError
from api.graphql.rows import Row
from api.http.consistency import NotYetConsistent

T = TypeVar("T")
MAX_FIRST = 100


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_size(first: int) -> int:
    """`first`, checked: BAD_USER_INPUT outside 0..MAX_FIRST."""
    if not 0 <= first <= MAX_FIRST:
        raise BadInputError(f"first must be between 0 and {MAX_FIRST}.", field="first")
    return first


def page(
    rows: list[Row], first: int, cursor_of: Callable[[Row], str], wrap: Callable[[Row], T]
) -> tuple[list[tuple[str, T]], PageInfo]:
    """The first `first` rows as (cursor, node) edges; one row more says a next page."""
    has_next = len(rows) > first
    edges = [(cursor_of(r), wrap(r)) for r in rows[:first]]
    info = PageInfo(
        has_next_page=has_next,
        has_previous_page=False,
        start_cursor=edges[0][0] if edges else None,
        end_cursor=edges[-1][0] if edges else None,
    )
    return edges, info


async def consistent(ctx: Context, position: int | None) -> None:
    """Wait (bounded) until the read models include `position` (read-your-writes)."""
    if position is not None:
        try:
            await ctx.consistency.wait(ctx.actor.id, position)
        except NotYetConsistent as error:
            raise NotYetConsistentError(str(error)) from None
