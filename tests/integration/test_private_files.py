"""Files holding secrets or opened personal data are their owner's only: `crafting
export -o FILE` writes mode 0600 (also over an existing 0644 file), and a secret file
found readable by others is narrowed to 0600 with a warning saying so."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import cli
from infra.key_files import read_or_create
from infra.private_files import open_private
from infra.secrets import jwt_secret
from infra.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def wide_umask() -> object:
    """The usual umask 022, whatever the test runner set: new files would be 0644."""
    previous = os.umask(0o022)
    yield None
    os.umask(previous)


@pytest.mark.usefixtures("wide_umask")
def test_crafting_export_writes_a_file_only_its_owner_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRAFTING_DATABASE_URL", f"sqlite:///{tmp_path}/crafting.db")
    monkeypatch.delenv("CRAFTING_JWT_SECRET", raising=False)
    runner = CliRunner()
    loaded = runner.invoke(cli, ["demo"])
    assert loaded.exit_code == 0, loaded.output
    fresh = tmp_path / "export.jsonl"
    result = runner.invoke(cli, ["export", "-o", str(fresh)])
    assert result.exit_code == 0, result.output
    assert _mode(fresh) == 0o600 and fresh.stat().st_size > 0
    # An existing file others could read is narrowed before anything is written to it.
    existing = tmp_path / "old-export.jsonl"
    existing.write_text("old\n")
    existing.chmod(0o644)
    again = runner.invoke(cli, ["export", "-o", str(existing)])
    assert again.exit_code == 0, again.output
    assert _mode(existing) == 0o600 and "old" not in existing.read_text()[:3]


def test_opening_a_device_leaves_its_mode_alone() -> None:
    before = _mode(Path("/dev/null"))
    with open_private(Path("/dev/null")) as out:
        out.write("x")
    assert _mode(Path("/dev/null")) == before


@pytest.mark.usefixtures("wide_umask")
def test_a_secret_file_readable_by_others_is_narrowed_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "crafting.db"
    path = tmp_path / "crafting.db.jwt-secret"
    path.write_text("a-secret-someone-wrote-by-hand-with-a-wide-umask-0123456789\n")
    path.chmod(0o644)
    caplog.set_level(logging.WARNING)
    settings = Settings(database_url=f"sqlite:///{database}")
    assert jwt_secret(settings, create=False).startswith("a-secret-someone")
    assert _mode(path) == 0o600
    (warning,) = [r for r in caplog.records if r.name == "crafting.files"]
    assert "readable by others" in warning.getMessage() and "0600" in warning.getMessage()
    assert "a-secret-someone" not in caplog.text  # the warning names the file, not the value
    caplog.clear()
    read_or_create(path, lambda: "unused")  # already private: nothing to say
    assert not caplog.records
