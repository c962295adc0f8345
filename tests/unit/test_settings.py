"""Settings refuse guessable secrets without ever repeating them, and the embedded
database file is private to its owner."""

from __future__ import annotations

import base64
import secrets
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.persistence import eventsourcing_env
from infra.secrets import MissingSecretError, master_key, new_master_key
from infra.settings import Settings

PG = "postgresql://postgres@127.0.0.1:5432/crafting"
WEAK = [
    "a" * 32,
    "changeme" * 4,
    "0123456789" * 4,
    "password1234567890abcdefghijklmnop",
    "abcdefghijklmnopqrstuvwxyz012345",
    "Secret-Secret-Secret-Secret-Secret",
    "tiny-1",
]


@pytest.mark.parametrize("weak", WEAK)
def test_a_guessable_secret_is_refused_and_never_repeated(weak: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(database_url=PG, jwt_secret=weak)
    shown = str(caught.value)
    assert "CRAFTING_JWT_SECRET is too weak" in shown
    assert weak not in shown
    assert weak[:12] not in shown  # not even a prefix (pydantic showed 22 characters)


def test_random_secrets_are_accepted() -> None:
    for _ in range(200):
        Settings(database_url=PG, jwt_secret=secrets.token_urlsafe(24))
        Settings(database_url=PG, jwt_secret=secrets.token_hex(16))


def test_development_mode_accepts_a_weak_secret() -> None:
    assert Settings(database_url=PG, jwt_secret="dev", dev=True).dev


def test_the_sqlite_database_file_is_created_private(tmp_path: Path) -> None:
    database = tmp_path / "data" / "crafting.db"
    eventsourcing_env(f"sqlite:///{database}")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_an_existing_sqlite_database_file_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "crafting.db"
    for path in (database, tmp_path / "crafting.db-wal"):
        path.write_bytes(b"")
        path.chmod(0o644)
    eventsourcing_env(f"sqlite:///{database}")
    for path in (database, tmp_path / "crafting.db-wal"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_master_key_must_be_32_random_bytes_and_is_never_shown(tmp_path: Path) -> None:
    for bad in ("not base64!", base64.b64encode(b"short").decode(), "A" * 44):
        with pytest.raises(ValidationError) as caught:
            Settings(database_url=PG, master_key=bad)
        assert bad not in str(caught.value)
        assert "crafting keys --new-master" in str(caught.value) or "32" in str(caught.value)
    good = new_master_key()
    assert base64.b64decode(good) and master_key(Settings(database_url=PG, master_key=good))
    with pytest.raises(MissingSecretError, match="CRAFTING_MASTER_KEY"):
        master_key(Settings(database_url=PG, master_key=None))
    # On SQLite: made once beside the database file, readable by its owner only.
    embedded = Settings(database_url=f"sqlite:///{tmp_path}/c.db", master_key=None)
    made = master_key(embedded)
    assert master_key(embedded) == made and len(made) == 32
    assert stat.S_IMODE((tmp_path / "c.db.master-key").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CRAFTING_SCIM_DEACTIVATION_SHARE", "0"),
        ("CRAFTING_SCIM_DEACTIVATION_SHARE", "1.5"),
        ("CRAFTING_SCIM_DEACTIVATION_WINDOW_SECONDS", "10"),
        ("CRAFTING_SCIM_DEACTIVATION_WINDOW_SECONDS", str(8 * 86_400)),  # past the guard's memory
        ("CRAFTING_SCIM_DEACTIVATION_MIN_PEOPLE", "-1"),
        ("CRAFTING_SCIM_DEFAULT_CONTRACTED_HOURS", "-4"),
        ("CRAFTING_SCIM_DEFAULT_CONTRACTED_HOURS", "1000"),
    ],
)
def test_provisioning_settings_out_of_range_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings(database_url=PG, dev=True)
    assert name.removeprefix("CRAFTING_").lower() in str(caught.value)


def test_the_deactivation_guard_defaults_to_a_fifth_within_an_hour() -> None:
    settings = Settings(database_url=PG, dev=True)
    assert settings.scim.deactivation_share == 0.2
    assert settings.scim.deactivation_window_seconds == 3600
