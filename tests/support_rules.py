"""Assert that a command was refused with a code and recorded nothing."""

from __future__ import annotations

import pytest

from domain.application import CraftingApplication, Request
from domain.application.commands import Command
from domain.errors import DomainError, Forbidden
from tests.support import positions


def refused(app: CraftingApplication, req: Request, command: Command, code: str) -> DomainError:
    before = positions(app)
    with pytest.raises(DomainError) as caught:
        app.execute(req, command)
    assert caught.value.code == code, caught.value.message
    assert positions(app) == before, "a refused command must record nothing"
    return caught.value


def forbidden(app: CraftingApplication, req: Request, command: Command) -> None:
    before = positions(app)
    with pytest.raises(Forbidden):
        app.execute(req, command)
    assert positions(app) == before, "a forbidden command must record nothing"
