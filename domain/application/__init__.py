"""The application service: commands (`commands`), the handler of each (`handlers`,
one explicit table), what a handler may use (`session`, a protocol) and its
implementation (`unit_of_work`), and the application that runs them atomically and
reads the write model (`service`)."""

from domain.application.commands import CommandResult, Request
from domain.application.service import CraftingApplication

__all__ = ["CommandResult", "CraftingApplication", "Request"]
