"""The PostgreSQL event store as this service runs it: every insert commits in log order,
and schema creation is one step that concurrent processes take in turns.

Why the insert function is replaced: every reader of the log (projections, the change
feed, export, the checkpoint sealer) tails it by position, so no transaction may commit
an event at a position below one a reader has already passed. The library's default
insert path guarantees this with `LOCK TABLE … IN EXCLUSIVE MODE`; its faster insert
function (`POSTGRES_ENABLE_DB_FUNCTIONS`, one round trip instead of a pipeline) takes no
lock in 9.5.6, so with concurrent writers a reader's high-water mark passes positions
that commit later, and those events are skipped for good. Ours is that function with
the lock: one round trip, and commit order equals position order (measured in
bench/RESULTS.md against both of the library's paths).

Not chosen: letting inserts run concurrently and having readers stop below the oldest
transaction still in flight (`pg_snapshot_xmin`). A position (`nextval`) and the
inserting transaction's id are not assigned in one step: transaction A may take its id
before B and its position after B's; with A committed and older than every transaction
in flight, a reader trusts A's position and passes B's, which B commits later. Every
reader would also have to change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg.sql import SQL, Composable, Composed, Identifier

from infra.keystore import data_keys, destroy_on

# Every process that creates or alters tables (the event store's, the read models',
# the audit tables) takes this lock first, per schema; see `infra.bootstrap.prepare`.
SCHEMA_LOCK = "crafting-schema"
# The most events one save passes as plain parameters (four a row, each shape prepared
# once per connection); a bigger save passes the library's array of composites.
FLAT_EVENTS_MAX = 32


def schema_lock_key(schema: str) -> str:
    """The advisory-lock key that serializes schema changes in one PostgreSQL schema."""
    return f"{SCHEMA_LOCK}:{schema}"


@contextmanager
def schema_lock(schema: str, **connect: Any) -> Iterator[None]:
    """Hold the schema lock on a connection of its own, made with `psycopg.connect(
    **connect)` (never a pooled one: what runs under the lock needs the pools)."""
    with psycopg.connect(**connect, autocommit=True) as conn:
        key = schema_lock_key(schema)
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))


def _datastore_lock(datastore: PostgresDatastore) -> AbstractContextManager[None]:
    given = datastore.pool.kwargs
    kwargs: dict[str, Any] = dict((given() if callable(given) else given) or {})
    kwargs.pop("row_factory", None)
    return schema_lock(datastore.schema, **kwargs)


_Shape = tuple[bool, bool, bool, bool]  # gt given, lte given, descending, limit given


def _select_statement(base: Composable, shape: _Shape) -> Composable:
    """The library's `select_events` statement for this shape, composed as it does."""
    gt, lte, desc, limit = shape
    statement = base
    if gt:
        statement += SQL(" AND originator_version > %s")
    if lte:
        statement += SQL(" AND originator_version <= %s")
    statement += SQL(" ORDER BY originator_version") + SQL(" DESC" if desc else " ASC")
    if limit:
        statement += SQL(" LIMIT %s")
    return statement


def _stored(rows: Sequence[Any]) -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=row["originator_id"],
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )
        for row in rows
    ]


class ComposedOnce(PostgresAggregateRecorder):
    """The event store's reads with each shape of their statement composed once, as
    bytes. The library composes `select_events`' statement for every read (a command
    makes two to five), and psycopg turns it into bytes again each time: ~0.02 ms of
    the ~0.1 ms of CPU a read costs (bench/RESULTS.md, eleventh session)."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._selects: dict[_Shape, bytes] = {}
        self._selects_past: dict[int, bytes] = {}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events(
        self,
        originator_id: Any,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        shape = (gt is not None, lte is not None, desc, limit is not None)
        params = [originator_id, *(p for p in (gt, lte, limit) if p is not None)]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            statement = self._selects.get(shape)
            if statement is None:
                composed = _select_statement(self.select_events_statement, shape)
                statement = self._selects[shape] = composed.as_bytes(conn)
            curs.execute(statement, params, prepare=True)
            return _stored(curs.fetchall())

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_past(self, versions: Sequence[tuple[Any, int]]) -> list[StoredEvent]:
        """The events of each aggregate after the version given with it, in one
        statement (a command loads its agreement and its employee together): in order
        of aggregate, then version."""
        params = [p for pair in versions for p in pair]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            statement = self._selects_past.get(len(versions))
            if statement is None:
                either = SQL(" OR ").join(
                    [SQL("(originator_id = %s AND originator_version > %s)")] * len(versions)
                )
                composed = SQL("SELECT * FROM {schema}.{table} WHERE {either} {order}").format(
                    schema=Identifier(self.datastore.schema),
                    table=Identifier(self.events_table_name),
                    either=either,
                    order=SQL("ORDER BY originator_id, originator_version"),
                )
                statement = self._selects_past[len(versions)] = composed.as_bytes(conn)
            curs.execute(statement, params, prepare=True)
            return _stored(curs.fetchall())


class SchemaLockedAggregateRecorder(ComposedOnce):
    """The snapshot store; its tables are created under the schema lock."""

    def create_table(self) -> None:
        with _datastore_lock(self.datastore):
            super().create_table()


class OrderedApplicationRecorder(ComposedOnce, PostgresApplicationRecorder):
    """The library's insert function, taking the EXCLUSIVE table lock of its default
    insert path: the function runs as one autocommitted statement, so the lock is held
    from before the sequence hands out positions until the commit."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql_create_pg_function_insert_events = SQL(
            "CREATE OR REPLACE FUNCTION "
            "{schema}.{insert_events}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint "
            "LANGUAGE plpgsql "
            "AS "
            "$BODY$"
            "BEGIN"
            "    SET LOCAL lock_timeout = '{lock_timeout}s';"
            "    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;"
            "    NOTIFY {channel};"
            "    RETURN QUERY"
            "    INSERT INTO {schema}.{table} AS t ("
            "    originator_id, originator_version, topic, state)"
            "    SELECT originator_id, originator_version, topic, state"
            "    FROM unnest(events)"
            "    RETURNING notification_id;"
            "END;"
            "$BODY$"
        ).format(
            insert_events=Identifier(self.pg_function_name_insert_events),
            lock_timeout=self.datastore.lock_timeout,
            channel=Identifier(self.channel_name),
            event=Identifier(self.stored_event_type_name),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )
        index = self.create_insert_function_statement_index
        self.sql_create_statements[index] = self.sql_create_pg_function_insert_events
        self._inserts: dict[int, bytes] = {}  # the flat statement by number of events

    def create_table(self) -> None:
        with _datastore_lock(self.datastore):
            super().create_table()

    destroys_keys = True

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The insert function's one statement; with `destroy_keys`, that statement and
        the keys' destruction in one transaction (erasure: infra.keystore).

        The events go to the function as one row constructor each, four plain parameters
        a row (`ARRAY[ROW(%s, %s, %s, %s)::stored_event, …]`), not as the library's one
        array of composites: psycopg dumps an array of composites in Python, quoting
        each field with regular expressions (~30 µs an event, a tenth of a command's
        CPU), and plain UUIDs, integers, texts and bytes in C. The function, the rows
        it receives and what it stores are the same. A save of more events than
        `FLAT_EVENTS_MAX` (a directory push) passes the library's array instead."""
        if not stored_events:
            nothing: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return nothing
        subjects = kwargs.get("destroy_keys", ())
        with self.datastore.get_connection() as conn:
            statement, params = self._insert_statement(conn, stored_events)
            with conn.transaction() if subjects else nullcontext(), conn.cursor() as curs:
                curs.execute(statement, params, prepare=True)
                name = self.pg_function_name_insert_events
                positions: list[int] = [r[name] for r in curs.fetchall()]
                if subjects:
                    table = f'"{self.datastore.schema}"."{data_keys.name}"'
                    destroy_on(curs, subjects, table=table, placeholder="%s")
        return positions

    def _insert_statement(
        self, conn: psycopg.Connection[Any], stored_events: Sequence[StoredEvent]
    ) -> tuple[bytes | Composed, Sequence[Any]]:
        """The insert function's statement for this many events, and its parameters."""
        count = len(stored_events)
        if count > FLAT_EVENTS_MAX:
            events = [
                self.construct_pg_stored_event(
                    originator_id=e.originator_id,
                    originator_version=e.originator_version,
                    topic=e.topic,
                    state=e.state,
                )
                for e in stored_events
            ]
            return self.sql_invoke_pg_function_insert_events, (events,)
        statement = self._inserts.get(count)
        if statement is None:
            row = SQL("ROW(%s, %s, %s, %s)::{schema}.{event}").format(
                schema=Identifier(self.datastore.schema),
                event=Identifier(self.stored_event_type_name),
            )
            composed = SQL("SELECT * FROM {schema}.{insert_events}(ARRAY[{rows}])").format(
                schema=Identifier(self.datastore.schema),
                insert_events=Identifier(self.pg_function_name_insert_events),
                rows=SQL(", ").join([row] * count),
            )
            statement = self._inserts[count] = composed.as_bytes(conn)
        params = [
            p
            for e in stored_events
            for p in (e.originator_id, e.originator_version, e.topic, e.state)
        ]
        return statement, params


class CraftingPostgresFactory(PostgresFactory):
    """`PERSISTENCE_MODULE` for PostgreSQL: the recorders above."""

    aggregate_recorder_class = SchemaLockedAggregateRecorder
    application_recorder_class = OrderedApplicationRecorder
