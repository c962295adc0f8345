"""Mutations run commands: an input becomes the domain's command (`command_from`), the
application runs it off the event loop (`execute`), and a broken rule becomes
`userErrors` (`user_errors`)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from enum import Enum
from typing import Any, ClassVar, TypeVar

import strawberry

from api.graphql.context import Context
from api.graphql.errors import BadInputError, ForbiddenError, UnavailableError
from api.graphql.ids import agreement_uuid
from api.http.metrics import COMMANDS
from domain.application import CommandResult
from domain.application import commands as c
from domain.errors import DomainError, Forbidden
from domain.sealing import KeysUnavailable

C = TypeVar("C", bound=c.Command)
T = TypeVar("T")


@strawberry.type
class UserError:
    field: str | None
    message: str
    code: str


class ValueInput:
    """An input that stands for one of the domain's value objects (same field names)."""

    VALUE: ClassVar[type[Any]]

    def value(self) -> Any:
        """The value object, its lists as tuples (value objects are immutable)."""
        return self.VALUE(
            **{
                f.name: _frozen(_as_domain(getattr(self, f.name)))
                for f in dataclasses.fields(self.VALUE)
                if hasattr(self, f.name)
            }
        )


def _as_domain(value: Any) -> Any:
    if isinstance(value, ValueInput):
        return value.value()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_as_domain(v) for v in value]
    return value


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def command_from(input: object, command: type[C]) -> C:
    """The command a mutation's input asks for (fields of the same names: nested inputs
    become their value objects, enums their values); BAD_REQUEST for a malformed id."""
    values = {
        f.name: _as_domain(getattr(input, f.name))
        for f in dataclasses.fields(command)
        if hasattr(input, f.name)
    }
    if "agreement_id" in values:
        values["agreement_id"] = agreement_uuid(values["agreement_id"], "agreementId")
    return command(**values)


async def execute(ctx: Context, command: c.Command) -> CommandResult:
    """Run a command off the event loop; DomainError and Forbidden are re-raised."""
    return await counted(
        type(command).__name__,
        lambda: ctx.ports.commands.execute(ctx.command_request, command),
    )


async def counted(name: str, call: Callable[[], T]) -> T:
    """Run `call` off the event loop, counted in the commands metric under `name`; a
    refusal as FORBIDDEN, an unreachable key store as SERVICE_UNAVAILABLE, a broken
    rule re-raised (for `userErrors`)."""
    try:
        result = await asyncio.to_thread(call)
    except Forbidden as error:
        COMMANDS.labels(name, "FORBIDDEN").inc()
        raise ForbiddenError(error.message) from None
    except KeysUnavailable:
        COMMANDS.labels(name, KeysUnavailable.code).inc()
        raise UnavailableError from None
    except DomainError as error:
        COMMANDS.labels(name, error.code).inc()
        raise
    COMMANDS.labels(name, "OK").inc()
    return result


def user_errors(error: DomainError | BadInputError) -> list[UserError]:
    """A refused command as the payload's `userErrors`."""
    if isinstance(error, DomainError):
        return [UserError(field=error.field, message=error.message, code=error.code)]
    extensions = error.extensions or {}
    return [UserError(field=extensions.get("field"), message=error.message, code="INVALID_INPUT")]
