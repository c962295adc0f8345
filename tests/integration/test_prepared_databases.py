"""The tests' prepared databases (tests/conftest.py, `prepared_database_url`): each test
gets a copy of its own, at the revision a fresh start migrates to, and what one test
writes is in no other copy nor in the template."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from domain.access import Actor
from domain.application import Request
from domain.application.commands import DirectoryEntry, UpsertPeople
from domain.person import Profile
from domain.values import Role
from infra import migrations
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings


@contextmanager
def _opened(url: str) -> Iterator[Container]:
    built = bootstrap(Settings(database_url=url, serve_projections=True))
    try:
        yield built
    finally:
        built.close()


def _events(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


def _copy(request: pytest.FixtureRequest, store: str, directory: Path) -> str:
    """A copy on `store`, as a test gets it (`prepared_database_url`)."""
    if store == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        directory.mkdir()
        (directory / "crafting.db").write_bytes(template.read_bytes())
        return f"sqlite:///{directory}/crafting.db"
    copies = request.getfixturevalue("postgres_copies")
    name, url = copies.copy()
    request.addfinalizer(lambda: copies.drop(name))
    return str(url)


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_each_copy_is_migrated_and_holds_only_its_own_writes(
    request: pytest.FixtureRequest, store: str, tmp_path: Path
) -> None:
    with _opened(_copy(request, store, tmp_path / "one")) as one:
        assert migrations.current(one.engines.writer) == migrations.SERVICE.head()
        assert _events(one) == 0
        hr = Request(Actor("hr-copy", frozenset({Role.HR})), "copy-1")
        profile = Profile("Copy", "copy@example.com", None, "t", 40, True)
        one.app.execute(hr, UpsertPeople(people=[DirectoryEntry("emp-copy", profile)]))
        assert _events(one) > 0
    # Copied after that write: the template did not get it.
    with _opened(_copy(request, store, tmp_path / "two")) as two:
        assert _events(two) == 0
