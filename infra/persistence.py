"""Database URLs turned into the eventsourcing environment and SQLAlchemy URLs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID, uuid4

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder


def sqlite_path(database_url: str) -> str:
    """`sqlite:///./x.db` -> `./x.db`; `sqlite:////abs/x.db` -> `/abs/x.db`."""
    return database_url.removeprefix("sqlite:///")


def eventsourcing_env(
    database_url: str, cache_size: int = 500, pool: PoolSize | None = None
) -> dict[str, str]:
    """The library's settings for our database URL. Aggregates are cached and
    fast-forwarded from the store on every load (so other processes' writes are seen),
    which keeps commands on long agreements from decoding their whole state each time."""
    common = {"AGGREGATE_CACHE_MAXSIZE": str(cache_size), "AGGREGATE_CACHE_FASTFORWARD": "y"}
    return common | _store_env(database_url, pool or PoolSize())


@dataclass(frozen=True)
class PoolSize:
    """Connections one pool keeps open, and how many more it may open under load."""

    size: int = 2
    overflow: int = 4


def _store_env(database_url: str, pool: PoolSize) -> dict[str, str]:
    if database_url.startswith("sqlite:///"):
        path = sqlite_path(database_url)
        if path == ":memory:":
            # A named shared in-memory database, so every pooled connection sees it.
            path = f"file:crafting-{uuid4().hex}?mode=memory&cache=shared"
        else:
            keep_private(Path(path))
        return {
            # Inserts that may destroy data keys in their transaction (sqlite_store).
            "PERSISTENCE_MODULE": "infra.sqlite_store:CraftingSQLiteFactory",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    env = {
        # Inserts that commit in log order, schema creation under a lock (postgres_store).
        "PERSISTENCE_MODULE": "infra.postgres_store:CraftingPostgresFactory",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or "localhost",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        # One round trip per save; our function takes the table lock (bench/RESULTS.md).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
        "POSTGRES_POOL_SIZE": str(pool.size),
        "POSTGRES_MAX_OVERFLOW": str(pool.overflow),
        # How long a caller waits for a pooled connection before an error.
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "5",
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    return env


def keep_private(database: Path) -> None:
    """The SQLite file (and its WAL files, which SQLite creates with the database's
    permissions) readable only by its owner: it holds everyone's records."""
    database.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)


def sqlalchemy_url(database_url: str) -> str:
    """The same database for SQLAlchemy (read models); a `?schema=` goes into
    `postgres_schema` instead."""
    if database_url.startswith("sqlite:///"):
        return "sqlite+pysqlite:///" + sqlite_path(database_url)
    rest = database_url.split("://", 1)[1].split("?", 1)[0]
    return "postgresql+psycopg://" + rest


def postgres_schema(database_url: str) -> str | None:
    """The schema named by `?schema=` in a PostgreSQL URL, if any."""
    values = parse_qs(urlsplit(database_url).query).get("schema")
    return values[0] if values else None


def position_lookup(recorder: ApplicationRecorder) -> Callable[[UUID, int], int | None]:
    """Find an event's log position by its aggregate id and version, with one indexed
    query (the primary key of the events table)."""
    if isinstance(recorder, PostgresApplicationRecorder):
        pg = recorder
        # Identifiers come from the library's own configuration, never from input.
        table = f'"{pg.datastore.schema}"."{pg.events_table_name}"'
        statement = f"SELECT notification_id FROM {table} WHERE originator_id = %s AND originator_version = %s"  # noqa: S608, E501

        def find_pg(originator_id: UUID, version: int) -> int | None:
            with pg.datastore.transaction(commit=False) as curs:
                curs.execute(statement, (originator_id, version))
                row = curs.fetchone()
            return None if row is None else int(row["notification_id"])

        return find_pg
    if isinstance(recorder, SQLiteApplicationRecorder):
        lite = recorder
        table = lite.events_table_name
        sql = f"SELECT rowid FROM {table} WHERE originator_id = ? AND originator_version = ?"  # noqa: S608

        def find_sqlite(originator_id: UUID, version: int) -> int | None:
            with lite.datastore.transaction(commit=False) as curs:
                curs.execute(sql, (originator_id.hex, version))
                row = curs.fetchone()
            return None if row is None else int(row[0])

        return find_sqlite
    raise TypeError(f"No position lookup for {type(recorder).__name__}")


StatesOf = Callable[[list[int]], dict[int, bytes]]
PROBES_PER_ROUND_TRIP = 15
"""Versions a search by instant reads per PostgreSQL statement: ~4 round trips at
100,000 events instead of ~17 (bench/RESULTS.md)."""


def stored_states(
    recorder: ApplicationRecorder,
) -> tuple[Callable[[UUID], AbstractContextManager[StatesOf]], int]:
    """Read a stream's stored states by version with indexed queries (the primary key
    of the events table), all in one transaction on one connection, and how many
    versions one read takes (time travel by instant: domain.application). PostgreSQL
    reads several per statement (each statement is a round trip); SQLite one (a
    statement is a call)."""
    if isinstance(recorder, PostgresApplicationRecorder):
        pg = recorder
        table = f'"{pg.datastore.schema}"."{pg.events_table_name}"'
        statement = f"SELECT originator_version, state FROM {table} WHERE originator_id = %s AND originator_version = ANY(%s)"  # noqa: S608, E501

        @contextmanager
        def read_pg(originator_id: UUID) -> Iterator[StatesOf]:
            with pg.datastore.transaction(commit=False) as curs:

                def states_of(versions: list[int]) -> dict[int, bytes]:
                    curs.execute(statement, (originator_id, versions))
                    return {r["originator_version"]: bytes(r["state"]) for r in curs.fetchall()}

                yield states_of

        return read_pg, PROBES_PER_ROUND_TRIP
    if isinstance(recorder, SQLiteApplicationRecorder):
        lite = recorder
        sql = f"SELECT state FROM {lite.events_table_name} WHERE originator_id = ? AND originator_version = ?"  # noqa: S608, E501

        @contextmanager
        def read_sqlite(originator_id: UUID) -> Iterator[StatesOf]:
            key = originator_id.hex
            with lite.datastore.transaction(commit=False) as curs:

                def states_of(versions: list[int]) -> dict[int, bytes]:
                    states = {}
                    for version in versions:
                        curs.execute(sql, (key, version))
                        row = curs.fetchone()
                        if row is not None:
                            states[version] = bytes(row[0])
                    return states

                yield states_of

        return read_sqlite, 1
    raise TypeError(f"No stored-state reader for {type(recorder).__name__}")
