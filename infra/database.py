"""SQLAlchemy engines for the read models, on the event store's database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from sqlalchemy import Engine, create_engine, event

from infra.persistence import PoolSize, postgres_schema, sqlalchemy_url

CONNECT_TIMEOUT_SECONDS = 5
REPLICA_CONNECT_TIMEOUT_SECONDS = 2


class DatabaseUnavailableError(Exception):
    """The database cannot be reached; the message is one line, with the server's
    reason and the URL without its password."""


@dataclass(frozen=True)
class Engines:
    """`writer` for the projections; `reader` for queries. On SQLite they differ:
    writers take the database's write lock when they begin (BEGIN IMMEDIATE), so a
    batch never fails half-way on a lock upgrade; readers never take it."""

    writer: Engine
    reader: Engine

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def create_engines(database_url: str, pool: PoolSize | None = None) -> Engines:
    """The read models' engines; on PostgreSQL one pool of `pool` connections."""
    pool = pool or PoolSize()
    url = sqlalchemy_url(database_url)
    if not url.startswith("sqlite"):
        engine = _postgres(url, postgres_schema(database_url), pool)
        return Engines(engine, engine)
    if url.endswith("/:memory:"):
        raise ValueError("The read models need a SQLite file, not :memory:.")
    return Engines(_sqlite(url, "BEGIN IMMEDIATE"), _sqlite(url, "BEGIN"))


def create_replica_engine(replica_url: str, primary_url: str, pool: PoolSize) -> Engine:
    """A streaming replica's engine: the primary's tables (its `?schema=` unless the
    replica's URL names one), and a short connect timeout: a replica that went away
    must not hold a read long before the primary answers it."""
    schema = postgres_schema(replica_url) or postgres_schema(primary_url)
    return _postgres(
        sqlalchemy_url(replica_url), schema, pool, connect_timeout=REPLICA_CONNECT_TIMEOUT_SECONDS
    )


def replica_name(replica_url: str) -> str:
    """How a replica is named in /readyz, /metrics and logs: host:port/database (never
    its user or password)."""
    parts = urlsplit(replica_url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path or '/'}"


def _postgres(
    url: str, schema: str | None, pool: PoolSize, connect_timeout: int | None = None
) -> Engine:
    # UTC sessions: instants come back (and are formatted in SQL, by the compiled
    # reads) in UTC whatever the server's own time zone is.
    options = "-ctimezone=UTC" + (f" -csearch_path={schema}" if schema else "")
    connect_args: dict[str, Any] = {"options": options}
    if connect_timeout is not None:
        connect_args["connect_timeout"] = connect_timeout
    return create_engine(
        url,
        # Every connection opened is kept, up to the same maximum (size + overflow):
        # SQLAlchemy closes a connection opened above `pool_size` as soon as it is
        # returned to a pool holding `pool_size` idle ones, so a steady load above it
        # opened a server process every few requests (its fork, its catalog caches, the
        # compiled reads' statement prepared again: 75 backends in 20 s of bench
        # hris_read). The pool opens connections lazily, so at rest it holds only what
        # a load has needed.
        pool_size=pool.size + pool.overflow,
        max_overflow=0,
        pool_timeout=10,
        pool_pre_ping=True,
        connect_args=connect_args,
        hide_parameters=True,  # a statement's values are personal data: never in errors
    )


def _sqlite(url: str, begin: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        hide_parameters=True,  # a statement's values are personal data: never in errors
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        # Let SQLAlchemy's begin event decide when transactions start.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA busy_timeout=30000")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def check_reachable(database_url: str) -> None:
    """Connect once, directly and briefly, so that an unreachable server, a missing
    database or a full server is reported at once with the server's own words (a pool
    would only say, much later, that it timed out)."""
    if database_url.startswith("sqlite"):
        return
    conninfo = database_url.split("?", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except psycopg.Error as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DatabaseUnavailableError(
            f"cannot connect to {masked_url(database_url)}: {reason}"
        ) from None


def masked_url(database_url: str) -> str:
    """The URL with its password replaced by `***`, safe for logs and messages."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))
