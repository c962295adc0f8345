"""The read models as a consumer of the log (`ReadModels`, the follower `projector`):
each batch is applied to the live generation's tables in the follower's transaction,
with the position (exactly once, see infra.followers.interface). Also their lifecycle:
tables created on first use, and rebuilt — into a fresh generation, switched to in one
transaction — when the code's version is newer or an operator asks (`crafting rebuild`).

A rebuild applies the same rules as the follower: events without the service's tag are
left out (alarm), and an event the database refuses is quarantined and left out rather
than failing the rebuild, so one bad event can never stop every read.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine, Index, inspect, select, text, update
from sqlalchemy.schema import CreateTable

from infra.audit.store import ProgressCallback
from infra.followers import positions, quarantine
from infra.followers.errors import described, is_connection_error
from infra.followers.follower import Follower
from infra.followers.interface import Item
from infra.followers.trust import alarm_untagged
from projections.name_index import NameIndex
from projections.projector import BatchProjector
from projections.tables import (
    PROJECTION_NAME,
    READ_MODEL_VERSION,
    ReadModel,
    clustered_children,
    projection_state,
    read_model,
    state_metadata,
)

log = logging.getLogger(__name__)
NAME = "projector"  # the follower, its consumer's position, its heartbeat
REBUILD_FLUSH_EVENTS = 50_000  # events projected in memory between writes of a rebuild


class ReadModels:
    """The read models' consumer: one batch, one transaction, on the live tables."""

    name = NAME

    def __init__(self, names: NameIndex | None = None) -> None:
        self.names = names  # the name index's key and opener (None: names not indexed)

    def handle(self, conn: Connection, events: Sequence[Item]) -> None:
        """Apply `events` to the live generation's tables."""
        state = _state(conn)
        assert state is not None, "call ensure_ready() first"
        BatchProjector(conn, read_model(state.generation), names=self.names).apply(events)


def ensure_ready(follower: Follower, progress: ProgressCallback | None = None) -> None:
    """Create the tables on first use; rebuild when the code's version is newer."""
    engine = follower.engine
    state_metadata.create_all(engine)
    with engine.begin() as conn:
        state = _state(conn)
        if state is None:
            read_model(1).metadata.create_all(conn)
            conn.execute(
                projection_state.insert().values(
                    name=PROJECTION_NAME, generation=1, version=READ_MODEL_VERSION
                )
            )
    follower.prepare(_legacy_position(engine))
    if state is not None and state.version != READ_MODEL_VERSION:
        log.info("read model version %s -> %s: rebuilding", state.version, READ_MODEL_VERSION)
        rebuild(follower, progress)


def _legacy_position(engine: Engine) -> int:
    """Where an older release's projector was (its position lived in the state row)."""
    columns = {c["name"] for c in inspect(engine).get_columns(projection_state.name)}
    if "position" not in columns:
        return 0
    with engine.connect() as conn:
        found = conn.execute(
            text(f"SELECT position FROM {projection_state.name} WHERE name = :name"),  # noqa: S608
            {"name": PROJECTION_NAME},
        ).scalar()
    return int(found or 0)


def rebuild(follower: Follower, progress: ProgressCallback | None = None) -> int:
    """Fill a fresh generation of tables from position 0 and switch to it; the old
    tables keep serving until the switch. Returns the number of events applied."""
    engine = follower.engine
    with engine.begin() as conn:
        state = _state(conn, lock=True)
        assert state is not None
        if state.building_generation is not None:  # an interrupted rebuild
            read_model(state.building_generation).metadata.drop_all(conn)
        target = max(state.generation, state.building_generation or 0) + 1
        _set(conn, building_generation=target)
    rm = read_model(target)
    try:
        return _Rebuild(follower, rm, progress, deferring=True).in_memory()
    except Exception as error:
        if is_connection_error(error):
            raise
        log.warning(
            "the rebuild failed in memory (%s): rebuilding again batch by batch, "
            "quarantining the events the database refuses",
            described(error),
        )
        return _Rebuild(follower, rm, progress).batch_by_batch()


class _Rebuild:
    def __init__(
        self,
        follower: Follower,
        rm: ReadModel,
        progress: ProgressCallback | None,
        *,
        deferring: bool = False,
    ):
        self.follower, self.rm, self.progress = follower, rm, progress
        consumer = follower.consumer
        self.names = consumer.names if isinstance(consumer, ReadModels) else None
        self.engine = follower.engine
        self.position = self.applied = 0
        self.deferred = _deferred_indexes(rm) if deferring else []
        _create_tables(self.engine, rm, without=self.deferred)
        self.head = follower.recorder.max_notification_id() or 0

    def _fetch(self, limit: int) -> Any:
        return self.follower.recorder.select_notifications(self.position + 1, limit)

    def _decoded(self, conn: Connection | None, batch: Any) -> list[Item]:
        items, untrusted = self.follower.decode(batch)
        if untrusted and conn is not None:
            for n in untrusted:
                alarm_untagged(conn, NAME, n)
        elif untrusted:
            with self.engine.begin() as own:
                for n in untrusted:
                    alarm_untagged(own, NAME, n)
        self.position, self.applied = batch[-1].id, self.applied + len(batch)
        return items

    def in_memory(self) -> int:
        """Project everything in memory, writing every REBUILD_FLUSH_EVENTS events:
        nothing is read back, and a row changed by many events is written once."""
        projector = BatchProjector(None, self.rm, remember=True, names=self.names)
        unflushed = 0
        collecting = gc.isenabled()
        gc.disable()  # millions of short-lived rows; nothing cyclic worth collecting
        try:
            while True:
                batch = self._fetch(self.follower.batch_size)
                if batch and batch[-1].id < self.head:
                    projector.project(self._decoded(None, batch))
                    unflushed += len(batch)
                    if unflushed >= REBUILD_FLUSH_EVENTS:
                        with self.engine.begin() as conn:
                            projector.conn = conn
                            projector.flush()
                        unflushed = 0
                    self._report()
                    continue

                def finish(conn: Connection, rest: Any) -> None:
                    if rest:
                        projector.project(self._decoded(conn, rest))
                    projector.conn = conn
                    projector.flush()

                # Everything up to the head written, then ordered on disk, before the
                # switch's lock: only what arrives meanwhile is written under it.
                if batch:
                    projector.project(self._decoded(None, batch))
                with self.engine.begin() as conn:
                    projector.conn = conn
                    projector.flush()
                self._cluster(self.deferred)
                return self._switch(finish, [])
        finally:
            if collecting:
                gc.enable()

    def batch_by_batch(self) -> int:
        """Apply each batch in a transaction of its own; when one fails, its events one
        at a time, quarantining those that fail alone."""
        while True:
            batch = self._fetch(self.follower.batch_size)
            if not batch or batch[-1].id >= self.head:
                self._cluster([])
                return self._switch(self._apply_carefully, batch)
            with self.engine.begin() as conn:
                self._apply_carefully(conn, batch)
            self._report()

    def _apply_carefully(self, conn: Connection, batch: Any) -> None:
        if not batch:
            return
        items = self._decoded(conn, batch)
        try:
            with conn.begin_nested():
                BatchProjector(conn, self.rm, names=self.names).apply(items)
            return
        except Exception as error:
            if is_connection_error(error):
                raise
        for position, event in items:
            try:
                with conn.begin_nested():
                    BatchProjector(conn, self.rm, names=self.names).apply([(position, event)])
            except Exception as error:
                if is_connection_error(error):
                    raise
                (n,) = self.follower.recorder.select_notifications(position, 1)
                quarantine.put(conn, NAME, n, described(error))

    def _cluster(self, deferred: Sequence[Index]) -> None:
        """Build the `deferred` indexes and put each agreement's children together on
        disk (PostgreSQL): the clustering indexes first, as CLUSTER rewrites every index
        of its table; the others after, built once over the ordered rows.

        Events arrive over time, so one agreement's adjustments, reallocations, reviews
        and changes lie on as many heap pages as it has rows; every read of an
        agreement's children (the compiled agreement pages above all) then visits each
        page. Rewritten in (agreement, position) order they share a page or two, and the
        planner, seeing the order (ANALYZE), reads them by index rather than bitmap.
        The tables are not yet live, so the exclusive lock blocks no one. Rows the live
        projector adds later go wherever there is room: the order decays with writes
        until the next rebuild (or an operator's `CLUSTER`, which remembers the index).
        """
        postgres = self.engine.dialect.name == "postgresql"
        clustering = {index for _, index in clustered_children(self.rm)} if postgres else set()
        self._build([i for i in deferred if i.name in clustering])
        try:
            if postgres:
                with self.engine.begin() as conn:
                    for table, index in clustered_children(self.rm):
                        conn.exec_driver_sql(f'CLUSTER "{table}" USING "{index}"')
                        conn.exec_driver_sql(f'ANALYZE "{table}"')
        except Exception as error:
            if is_connection_error(error):
                raise
            # An order on disk is worth less than the rebuild: switch without it.
            log.warning("the rebuilt tables were not clustered (%s)", described(error))
        self._build([i for i in deferred if i.name not in clustering])

    def _build(self, indexes: Sequence[Index]) -> None:
        with self.engine.begin() as conn:
            for index in indexes:
                index.create(conn)

    def _switch(
        self, finish: Callable[[Connection, Any], None], fetched: Sequence[Notification]
    ) -> int:
        # The end: catch up and switch under the position's lock, so no batch of the
        # live follower slips in between. `fetched` (the batch that reached the head,
        # read before the lock) is not read again: the log up to it cannot change.
        with self.engine.begin() as conn:
            locked = _state(conn, lock=True)
            assert locked is not None
            positions.read(conn, NAME, lock=True)
            after = fetched[-1].id if fetched else self.position
            rest = self.follower.recorder.select_notifications(after + 1, 10**9)
            finish(conn, [*fetched, *rest])
            _set(conn, generation=self.rm.generation, version=READ_MODEL_VERSION)
            _set(conn, building_generation=None)
            positions.move(conn, NAME, self.position)
            read_model(locked.generation).metadata.drop_all(conn)
        if self.progress is not None:
            self.progress(self.position, max(self.head, self.position))
        return self.applied

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.position, self.head)


def _deferred_indexes(rm: ReadModel) -> list[Index]:
    """The tables' secondary indexes, which an in-memory rebuild makes only after the
    load: the load writes only the rows, and each index is built once from the full
    table (a sort) instead of being updated row by row, ~2.8 rows per event. Unique
    indexes and primary keys are made with the tables: the flush's upserts and the
    database's refusals rely on them. Nothing reads the tables before the switch but
    the flush's own lookups by primary key and its per-flush selects of the insights (a
    scan at worst). An interrupted rebuild drops the whole generation, so none is left
    half-made."""
    return [
        index
        for table in rm.metadata.sorted_tables
        for index in sorted(table.indexes, key=lambda i: str(i.name))
        if not index.unique
    ]


def _create_tables(engine: Engine, rm: ReadModel, without: Sequence[Index]) -> None:
    """(Re)create the generation's empty tables with their indexes but those `without`,
    which are created once, later, and never before (not created here and dropped).

    SQLite checks a CREATE's name against the connection's cached schema, which
    BEGIN IMMEDIATE does not refresh: a pooled connection that read the schema while
    an index existed, dropped since by another connection, refuses to create it again
    ("index ... already exists"). So no name is created twice by different connections:
    the drop of what an earlier attempt left (its checks read the schema afresh) and
    the creates run in one transaction on one connection."""
    left_out = {index.name for index in without}
    with engine.begin() as conn:
        rm.metadata.drop_all(conn)
        for table in rm.metadata.sorted_tables:
            conn.execute(CreateTable(table))
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                if index.name not in left_out:
                    index.create(conn)


def _state(conn: Connection, *, lock: bool = False) -> Any:
    query = select(projection_state).where(projection_state.c.name == PROJECTION_NAME)
    if lock:
        query = query.with_for_update()
    return conn.execute(query).one_or_none()


def _set(conn: Connection, **values: Any) -> None:
    conn.execute(
        update(projection_state).where(projection_state.c.name == PROJECTION_NAME).values(**values)
    )


def current_position(engine: Engine) -> int:
    """The last position the read models have processed."""
    return positions.current_position(engine, NAME)


def wait_for_position(engine: Engine, position: int, timeout: float) -> bool:
    """Wait (bounded) until the read models reach `position` (read-your-writes)."""
    return positions.wait_for_position(engine, NAME, position, timeout)
