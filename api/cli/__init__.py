"""The `crafting` command: serving and operating (`main`), auditing (`audit`), and the
seed story (`demo`)."""

from api.cli.main import cli

__all__ = ["cli"]
