"""GraphQL errors we raise on purpose; anything else is masked as 'Unexpected error.'"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class PublicError(GraphQLError):
    """An error whose message is safe to show; `code` goes in extensions."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str | None = None, **extra: Any) -> None:
        extensions: dict[str, Any] = {"code": self.code, **extra}
        if field is not None:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)


class BadInputError(PublicError):
    code = "BAD_USER_INPUT"


class ForbiddenError(PublicError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "You are not allowed to see or do this.") -> None:
        super().__init__(message)


class NotFoundError(PublicError):
    code = "NOT_FOUND"


class UnavailableError(PublicError):
    """A dependency is down (the key store): nothing was recorded; retry later."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(
        self, message: str = "The key store cannot be reached: nothing was recorded or read."
    ) -> None:
        super().__init__(message)


class NotYetConsistentError(PublicError):
    code = "NOT_YET_CONSISTENT"


def is_public(error: GraphQLError) -> bool:
    """Keep our own errors and GraphQL's parse, validation and input-coercion errors
    (a bad enum value in a variable arrives wrapped in a GraphQLError); mask
    everything else."""
    original = error.original_error
    if original is None:
        return True  # parse and validation errors carry no internals
    return isinstance(original, GraphQLError)
