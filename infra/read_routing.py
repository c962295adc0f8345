"""Reads routed to PostgreSQL streaming replicas (CRAFTING_READ_DATABASE_URL).

The read models' queries of the front doors (GraphQL queries, web pages, SCIM reads) go
to a replica in rotation; everything else — commands, the followers of the log, the
consistency waits, the key store — stays on the primary. A background thread checks
every replica once a `probe_seconds`: reachable, still a standby, and how far behind.

How far behind, in seconds, without trusting either server's clock or
`pg_last_xact_replay_timestamp()` (which only moves when a transaction is replayed, so
an idle primary would look like a lagging replica): the thread samples the primary's
WAL position, remembering when (this process's monotonic clock) each new position was
first seen. A replica that has replayed up to L is missing the WAL written after the
first sample beyond L, so it is at least that old: its lag. A replica that has replayed
the newest sample is 0 behind. The figure is a lower bound, off by at most one probe.

A replica is out of rotation when it does not answer, is no longer in recovery
(promoted: it no longer follows this primary), or lags more than `max_lag_seconds`;
reads then go to the primary. A read that fails on a replica because the connection
broke (replica stopped mid-query) or a recovery conflict cancelled it is run again on
the primary, and the replica leaves rotation until the thread sees it healthy again: a
replica going away costs no request.

Read-your-writes: a request that waited for a position (`consistentWith`, SCIM, the web
app's page after a write) sets a floor (`require`); its reads then check, in the
replica's own transaction, the read models' position there (the projector's row,
replicated with the tables), and read from the primary when the replica has not
replayed that far. Rows the check saw cannot go backwards within the transaction.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from infra.followers import positions
from infra.followers.errors import is_connection_error, one_line

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_SECONDS = 1.0
PROJECTOR = "projector"  # infra.followers.read_models.NAME (the read models' position)
# SQLSTATE of a query a standby cancelled because replay needed what it read
# ("canceling statement due to conflict with recovery"); the primary answers it instead.
RECOVERY_CONFLICT = "40001"
PRIMARY_WAL = text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
REPLICA_STATE = text(
    "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"
)


class _Floor:
    """The position a request's reads must include (0: any)."""

    __slots__ = ("position",)

    def __init__(self) -> None:
        self.position = 0


_floor: ContextVar[_Floor | None] = ContextVar("crafting_read_floor", default=None)


def new_request() -> None:
    """Start a request's floor in the current task, before it fans out into tasks
    (GraphQL resolves fields in tasks of their own): a wait in one field then raises
    the floor every later read of the request sees."""
    _floor.set(_Floor())


def require(position: int) -> None:
    """The current request's reads must include `position` (it waited for it)."""
    floor = _floor.get()
    if floor is None:
        floor = _Floor()
        _floor.set(floor)
    floor.position = max(floor.position, position)


def required() -> int:
    """The position the current request's reads must include (0: any)."""
    floor = _floor.get()
    return 0 if floor is None else floor.position


@dataclass(frozen=True)
class ReplicaStatus:
    """One replica as last seen (for /readyz and /metrics): never its URL's password."""

    name: str
    in_rotation: bool
    lag_seconds: float | None  # None: not known (never reached)
    position: int | None  # the read models' position on the replica
    reason: str | None  # why it is out of rotation
    reads: int  # reads it answered
    fallbacks: int  # reads it could not answer, answered by the primary


@dataclass
class _Replica:
    name: str
    engine: Engine
    in_rotation: bool = False
    lag_seconds: float | None = None
    position: int | None = None
    reason: str | None = "not checked yet"
    reads: int = 0
    fallbacks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self) -> ReplicaStatus:
        return ReplicaStatus(
            self.name,
            self.in_rotation,
            self.lag_seconds,
            self.position,
            None if self.in_rotation else self.reason,
            self.reads,
            self.fallbacks,
        )


class WalSamples:
    """When this process first saw the primary's WAL reach each position."""

    def __init__(self, keep_seconds: float) -> None:
        self.keep_seconds = keep_seconds
        self._samples: deque[tuple[float, int]] = deque()
        self._forgotten = -1  # the newest position of the samples aged out
        self._lock = threading.Lock()

    def add(self, now: float, lsn: int) -> None:
        """The primary's WAL position at `now`."""
        with self._lock:
            if not self._samples or lsn > self._samples[-1][1]:
                self._samples.append((now, lsn))
            # Keep the newest sample however old: it says where the primary is.
            while len(self._samples) > 1 and now - self._samples[0][0] > self.keep_seconds:
                self._forgotten = self._samples.popleft()[1]

    def lag(self, now: float, replayed: int) -> float | None:
        """Seconds the WAL a replica has not replayed has been waiting (a lower bound);
        None before the primary was sampled."""
        with self._lock:
            if not self._samples:
                return None
            if replayed < self._forgotten:  # behind WAL older than every sample kept
                return max(self.keep_seconds, now - self._samples[0][0])
            for seen_at, lsn in self._samples:
                if lsn > replayed:
                    return max(0.0, now - seen_at)
        return 0.0


class ReadRouter:
    """The primary and the replicas in rotation; `run` gives a read a connection."""

    def __init__(
        self,
        primary: Engine,
        replicas: Sequence[tuple[str, Engine]],
        max_lag_seconds: float,
        probe_seconds: float = PROBE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replicas = [_Replica(name, engine) for name, engine in replicas]
        self.max_lag_seconds = max_lag_seconds
        self.probe_seconds = probe_seconds
        self.clock = clock
        self.wal = WalSamples(keep_seconds=max_lag_seconds + 10 * probe_seconds)
        self.primary_reads = 0
        self._turn = itertools.count()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # --- reads --------------------------------------------------------------

    def run(self, work: Callable[[Connection], T], *, alone: bool = False) -> T:
        """`work` in one transaction on a replica in rotation (each in turn), or on the
        primary when none is, when the replica has not replayed the request's floor, or
        when the replica fails under it (then it leaves rotation). `alone`: `work` is one
        statement, its own snapshot, run without a transaction (`connected`)."""
        replica = self._pick()
        answered: list[T] = []
        if replica is not None and self._on_replica(replica, work, answered, alone):
            return answered[0]
        with connected(self.primary, alone=alone) as conn:
            found = work(conn)
        self.primary_reads += 1
        return found

    def serving(self) -> bool:
        """Whether a replica is in rotation now (else `run` reads on the primary)."""
        return any(r.in_rotation for r in self.replicas)

    def _pick(self) -> _Replica | None:
        serving = [r for r in self.replicas if r.in_rotation]
        if not serving:
            return None
        return serving[next(self._turn) % len(serving)]

    def _on_replica(
        self, replica: _Replica, work: Callable[[Connection], T], answered: list[T], alone: bool
    ) -> bool:
        """Whether the replica answered (into `answered`)."""
        floor = required()
        try:
            with connected(replica.engine, alone=alone) as conn:
                if floor and (positions.read(conn, PROJECTOR) or 0) < floor:
                    replica.fallbacks += 1
                    return False
                answered.append(work(conn))
        except DBAPIError as error:
            if not _replica_fault(error):
                raise
            replica.fallbacks += 1
            self._leave(replica, one_line(error.orig or error))
            return False
        except PoolTimeout:
            # Every connection to it busy for the pool's timeout: it is slow, not gone;
            # this read goes to the primary, the checks judge the replica.
            replica.fallbacks += 1
            return False
        replica.reads += 1
        return True

    # --- checks -------------------------------------------------------------

    def start(self) -> None:
        """Check the replicas now (so the first reads already use them), then every
        `probe_seconds` in a daemon thread."""
        if not self.replicas or self._thread is not None:
            return
        self.check()
        self._thread = threading.Thread(target=self._loop, name="read-replicas", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop checking; reads go to the primary from now on."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        for replica in self.replicas:
            replica.in_rotation = False

    def _loop(self) -> None:
        while not self._stopping.wait(self.probe_seconds):
            try:
                self.check()
            except Exception:  # the thread must outlive any surprise; reads go on
                log.exception("checking the read replicas failed")

    def check(self) -> None:
        """Sample the primary's WAL position, then judge every replica."""
        try:
            with self.primary.connect() as conn:
                lsn = conn.execute(PRIMARY_WAL).scalar_one()
            self.wal.add(self.clock(), int(lsn))
        except DBAPIError as error:
            # The replicas are judged against the last samples; lag grows meanwhile.
            log.warning("read replicas: the primary's WAL position: %s", one_line(error))
        for replica in self.replicas:
            self._check(replica)

    def _check(self, replica: _Replica) -> None:
        try:
            with replica.engine.connect() as conn:
                in_recovery, replayed = conn.execute(REPLICA_STATE).one()
                replica.position = positions.read(conn, PROJECTOR)
        except DBAPIError as error:
            self._leave(replica, f"unreachable: {one_line(error.orig or error)}")
            return
        if not in_recovery:
            replica.lag_seconds = None
            self._leave(replica, "not a standby (promoted, or the primary itself)")
            return
        lag = self.wal.lag(self.clock(), int(replayed or 0))
        replica.lag_seconds = lag
        if lag is None:
            self._leave(replica, "the primary's WAL position is not known yet")
        elif lag > self.max_lag_seconds:
            self._leave(replica, f"{lag:.1f} s behind (more than {self.max_lag_seconds:g} s)")
        else:
            self._join(replica)

    def _leave(self, replica: _Replica, reason: str) -> None:
        with replica.lock:
            was = replica.in_rotation
            replica.in_rotation, replica.reason = False, reason
        if was:
            log.warning("read replica %s out of rotation: %s", replica.name, reason)

    def _join(self, replica: _Replica) -> None:
        with replica.lock:
            was = replica.in_rotation
            replica.in_rotation, replica.reason = True, None
        if not was:
            log.info("read replica %s in rotation", replica.name)

    def status(self) -> list[ReplicaStatus]:
        """Every replica as last checked."""
        return [replica.status() for replica in self.replicas]

    def dispose(self) -> None:
        """Stop checking and close the replicas' connections."""
        self.stop()
        for replica in self.replicas:
            replica.engine.dispose()


@contextmanager
def connected(engine: Engine, *, alone: bool = False) -> Iterator[Connection]:
    """A connection in one transaction, or, `alone`, in autocommit: a single statement
    is its own snapshot already, and a transaction around it costs two round trips
    more (BEGIN, COMMIT) on the client and on the server (a compiled page: bench
    hris_read). The driver sets autocommit without a round trip; the pool gives the
    connection back with its default isolation."""
    if not alone:
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


def _replica_fault(error: DBAPIError) -> bool:
    """The replica, not the read, failed: its connection broke or was refused, or a
    recovery conflict cancelled the statement."""
    code = getattr(error.orig, "sqlstate", None)
    return is_connection_error(error) or code == RECOVERY_CONFLICT
