"""Databases for the tests: SQLite always; PostgreSQL from CRAFTING_TEST_POSTGRES_URL,
else testcontainers when Docker runs, else skipped (a failure when
CRAFTING_REQUIRE_POSTGRES=1). Each run creates its own PostgreSQL database and drops
it at the end; each test gets its own schema inside it."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from domain.application import CraftingApplication
from infra.bootstrap import Container, bootstrap
from infra.secrets import new_master_key
from infra.settings import Settings
from infra.signing import new_private_key
from tests.oidc import oidc_provider, own_provider  # noqa: F401  (fixtures)

REQUIRE_POSTGRES = os.environ.get("CRAFTING_REQUIRE_POSTGRES") == "1"
# One master key for the whole run, as a deployment has one: every process a test starts
# on one database (serve, projectors, workers) opens what the others sealed.
os.environ.setdefault("CRAFTING_MASTER_KEY", new_master_key())
SNAPSHOT_KEY = b"tests-snapshot-key-0123456789abc"
# Property tests check what holds, never how fast: hypothesis's per-example deadline
# (200 ms) and its too-slow health check fail them when the machine is busy (a
# DeadlineExceeded at 220 ms in a full run beside other work). Speed is the benchmarks'.
settings.register_profile("crafting", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("crafting")


def _pdf_renderer_missing() -> str | None:
    """Why WeasyPrint cannot render here (it loads pango when imported), or None."""
    try:
        import weasyprint  # noqa: F401
    except OSError as error:  # pango is a system library: `apt-get install libpango-1.0-0`
        return f"the promotion dossier's PDF needs pango ({error})"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `pdf` skip where pango is missing (a newcomer's machine), and fail
    instead in CI (CRAFTING_REQUIRE_TOOLS=1), whose own files install it."""
    if not any(item.get_closest_marker("pdf") for item in items):
        return
    missing = _pdf_renderer_missing()
    if missing is None or os.environ.get("CRAFTING_REQUIRE_TOOLS") == "1":
        return
    for item in items:
        if item.get_closest_marker("pdf"):
            item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(autouse=True)
def read_lag(monkeypatch: pytest.MonkeyPatch) -> None:
    """CRAFTING_TEST_READ_LAG=SECONDS: every projection batch of this process commits that
    much later, so a test that reads its own write without waiting for its position
    (`consistentWith`, `World.sync`) fails every time instead of once under load."""
    lag = float(os.environ.get("CRAFTING_TEST_READ_LAG") or 0)
    if lag > 0:
        from infra.followers import read_models
        from tests.paused_projector import paused

        monkeypatch.setattr(read_models, "BatchProjector", paused(lag))


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server URL, or skip (fail when PostgreSQL is required)."""
    url = os.environ.get("CRAFTING_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    if REQUIRE_POSTGRES:
        pytest.fail("CRAFTING_REQUIRE_POSTGRES=1 but no PostgreSQL: set CRAFTING_TEST_POSTGRES_URL")
    pytest.skip("no PostgreSQL (set CRAFTING_TEST_POSTGRES_URL or run Docker)")


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(
        (
            parts.scheme.replace("postgresql+psycopg", "postgresql"),
            parts.netloc,
            "/" + database,
            "",
            "",
        )
    )


def _admin_url(server_url: str) -> str:
    """The server's URL on the database it names (or `postgres`): where databases are
    created and dropped."""
    return _with_database(server_url, urlsplit(server_url).path.lstrip("/") or "postgres")


def _admin_sql(admin: str, statement: str) -> None:
    """One statement outside a transaction (CREATE and DROP DATABASE need that)."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session")
def postgres_database_url(postgres_server_url: str) -> Iterator[str]:
    """A database created for this test run, dropped at its end."""
    name = f"crafting_test_{uuid4().hex[:12]}"
    admin = _admin_url(postgres_server_url)
    _admin_sql(admin, f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(postgres_server_url, name)
    finally:
        _admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_schema_url(database_url: str, schema: str | None = None) -> str:
    schema = schema or f"t_{uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database_url}?schema={schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/crafting.db"
    return postgres_schema_url(request.getfixturevalue("postgres_database_url"))


def _prepared(database_url: str) -> None:
    """Migrate `database_url` and create its read models, as a service's start does."""
    built = bootstrap(Settings(database_url=database_url, serve_projections=True))
    try:
        built.prepare()
    finally:
        built.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database as a service leaves it after its first start (migrated, read
    models created, nothing written): copied for each test that starts a service."""
    path = tmp_path_factory.mktemp("template") / "crafting.db"
    _prepared(f"sqlite:///{path}")
    return path


@dataclass
class _PostgresCopies:
    """Databases copied from a prepared template (`CREATE DATABASE ... TEMPLATE`, some
    50 ms, where migrating a fresh schema takes 0.5-1 s). Dropping one waits for a
    checkpoint (about 0.4 s), so a thread of its own drops them while tests go on."""

    admin: str
    server_url: str
    template: str
    schema: str
    _dropping: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        self._dropper = threading.Thread(target=self._drop_each, name="drop-copies", daemon=True)
        self._dropper.start()

    def copy(self) -> tuple[str, str]:
        """A new database copied from the template: (its name, its URL)."""
        name = f"{self.template}_{uuid4().hex[:8]}"
        _admin_sql(self.admin, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name, f"{_with_database(self.server_url, name)}?schema={self.schema}"

    def drop(self, name: str) -> None:
        self._dropping.put(name)

    def _drop_each(self) -> None:
        while (name := self._dropping.get()) is not None:
            _admin_sql(self.admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self._dropping.put(None)
        self._dropper.join()
        _admin_sql(self.admin, f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_copies(postgres_server_url: str) -> Iterator[_PostgresCopies]:
    """A prepared PostgreSQL database to copy, made once per test run (and worker)."""
    template = f"crafting_tpl_{uuid4().hex[:12]}"
    admin = _admin_url(postgres_server_url)
    _admin_sql(admin, f'CREATE DATABASE "{template}"')
    copies = _PostgresCopies(admin, postgres_server_url, template, "t_template")
    try:
        _prepared(postgres_schema_url(_with_database(postgres_server_url, template), "t_template"))
        # A copy fails while anything is connected to its template: nothing may now.
        _admin_sql(admin, f'ALTER DATABASE "{template}" WITH ALLOW_CONNECTIONS false')
        yield copies
    finally:
        copies.close()


def _prepared_copy(request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    """A copy of the prepared database of the store `request.param` names."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, directory / "crafting.db")
        yield f"sqlite:///{directory}/crafting.db"
        return
    copies: _PostgresCopies = request.getfixturevalue("postgres_copies")
    name, url = copies.copy()
    yield url
    copies.drop(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def prepared_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Like `database_url` (each store in turn, a store of the test's own), already
    migrated with its read models created: for tests that start a service on it and do
    not test how a service starts on an empty database."""
    yield from _prepared_copy(request, tmp_path)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like `prepared_database_url`, one per test module (and store): for the modules
    whose tests share one service (`tests.e2e.conftest.shared_api`)."""
    yield from _prepared_copy(request, tmp_path_factory.mktemp("module"))


@pytest.fixture
def postgres_url(postgres_database_url: str) -> str:
    """A fresh schema on PostgreSQL, for tests that only make sense there."""
    return postgres_schema_url(postgres_database_url)


@pytest.fixture
def container(database_url: str) -> Iterator[Container]:
    built = bootstrap(
        Settings(
            database_url=database_url,
            jwt_secret=None,
            signing_key=new_private_key(),
        )
    )
    yield built
    built.close()


@pytest.fixture
def memory_app() -> Iterator[CraftingApplication]:
    """The application on the library's in-memory store: for fast unit tests."""
    app = CraftingApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, snapshot_key=SNAPSHOT_KEY
    )
    yield app
    app.close()
