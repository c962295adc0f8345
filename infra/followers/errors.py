"""How a follower tells errors apart and says what they were without saying what data
they were about."""

from __future__ import annotations

import sqlite3
import traceback

from sqlalchemy.exc import DBAPIError

CONNECTION_ERRORS = frozenset({"OperationalError", "InterfaceError", "PoolTimeout"})

# SQLite reports a refused statement ("index ... already exists", "no such column") as
# an OperationalError too, with the generic result code SQLITE_ERROR. Only these primary
# result codes say the database could not be reached or used for now; retried quietly
# like a lost connection. <https://sqlite.org/rescode.html>
SQLITE_TRANSIENT = frozenset(
    {
        5,  # SQLITE_BUSY
        6,  # SQLITE_LOCKED
        7,  # SQLITE_NOMEM
        10,  # SQLITE_IOERR
        13,  # SQLITE_FULL
        14,  # SQLITE_CANTOPEN
        15,  # SQLITE_PROTOCOL
    }
)


def is_connection_error(error: BaseException) -> bool:
    """A lost or refused connection (or a server restarting), from psycopg, SQLAlchemy
    or the event store: retried quietly, never a reason to quarantine an event."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    sqlite_error = _sqlite_error(error)
    if sqlite_error is not None:
        return (getattr(sqlite_error, "sqlite_errorcode", 0) & 0xFF) in SQLITE_TRANSIENT
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & CONNECTION_ERRORS)


def _sqlite_error(error: BaseException) -> sqlite3.Error | None:
    """The sqlite3 error behind `error` (SQLAlchemy keeps it as `orig`, the event store
    raises its own from it), or None."""
    seen: BaseException | None = error
    for _ in range(5):  # a short chain; never loop on a cycle
        if seen is None:
            return None
        if isinstance(seen, sqlite3.Error):
            return seen
        orig = seen.orig if isinstance(seen, DBAPIError) else None
        seen = orig if isinstance(orig, BaseException) else seen.__cause__
    return None


def one_line(error: BaseException) -> str:
    """A connection error as one short line (the server's reason; no data)."""
    return " ".join(str(error).split())[:300] or type(error).__name__


def described(error: BaseException) -> str:
    """What failed and where, for tables and alarms: the exception's class, the first
    line of a database's own message (never the statement or its parameters), and the
    innermost place in our code — never the message of other errors, which may quote
    the data (a KeyError names the key)."""
    orig = error.orig if isinstance(error, DBAPIError) else None
    if orig is not None:
        lines = str(orig).strip().splitlines()
        return f"{type(orig).__name__}: {lines[0] if lines else ''}"[:300]
    if type(error).__module__.startswith("psycopg"):  # e.g. refusing a NUL in text
        lines = str(error).strip().splitlines()
        return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/site-packages/" not in f.filename] or frames
    where = f" at {ours[-1].filename.rsplit('/', 1)[-1]}:{ours[-1].lineno}" if ours else ""
    return f"{type(error).__name__}{where}"[:300]
