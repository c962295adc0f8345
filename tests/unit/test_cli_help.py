"""The command line's help says what a newcomer needs: flags as flags, date formats, and
which database (password masked) and settings a command uses."""

from __future__ import annotations

import importlib

import pytest
from typer.testing import CliRunner

import api.cli.main


@pytest.mark.parametrize("command", ["history", "export", "serve", "verify", "demo"])
def test_every_command_help_names_its_database_and_settings(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRAFTING_DATABASE_URL", "postgresql://crafting:s3cret@db:5432/crafting")
    cli = importlib.reload(api.cli.main).cli
    shown = CliRunner().invoke(cli, [command, "--help"], terminal_width=100).output
    assert "Database: postgresql://crafting:***@db:5432/crafting" in shown
    assert "s3cret" not in shown
    assert "CRAFTING_JWT_SECRET" in shown
    assert "<bool>" not in shown


def test_instants_say_their_format() -> None:
    shown = CliRunner().invoke(api.cli.main.cli, ["history", "--help"], terminal_width=100).output
    assert "2026-11-24T10:00:00Z" in shown
    assert "--json " in shown


def test_the_footer_names_the_settings_a_newcomer_must_set() -> None:
    output = CliRunner().invoke(api.cli.main.cli, ["serve", "--help"], terminal_width=100).output
    shown = " ".join(output.split())
    assert "CRAFTING_MASTER_KEY (required on PostgreSQL)" in shown
    assert "CRAFTING_PUBLIC_URL" in shown


@pytest.mark.parametrize("command", ["token", "login-link"])
def test_roles_are_listed_in_words(command: str) -> None:
    shown = CliRunner().invoke(api.cli.main.cli, [command, "--help"], terminal_width=100).output
    assert "list[" not in shown
    assert "--role <role>" in shown
    assert "EMPLOYEE, MANAGER, HR, AUDITOR, INTEGRATION" in " ".join(shown.split())


def test_counts_agree_with_their_nouns() -> None:
    from api.cli.audit import counted

    assert counted(1, "checkpoint") == "1 checkpoint"
    assert counted(0, "checkpoint") == "0 checkpoints"
    assert counted(2, "stream") == "2 streams"
