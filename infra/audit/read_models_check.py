"""The read models against the events (`crafting verify --read-models`): the events up
to the live read models' position are projected into a scratch generation of tables,
which is then compared row by row with the live tables and dropped. A row edited in SQL
(a status, an hour count), deleted or added shows up by table, key, agreement and
column. Rows the live projector changed after the position compared are left out.

The insights' closed months (`insight_months`) carry no position: a month is written
when the log first shows an event of a later month. So a month is compared when it was
closed at or before the compared position — before the month of the latest event up
to it, which is when the scratch build closed it too; a later month the live tables
hold was closed by an event after the position (the projector moved on meanwhile) and
is left out, as is the live clock (`insight_clock`) when it has seen a later event.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine, Table, select

from projections.insights.facts import utc
from projections.insights.months import month_of
from projections.name_index import NameIndex
from projections.projector import BatchProjector
from projections.tables import PROJECTION_NAME, ReadModel, projection_state, read_model

BATCH = 1000
FLUSH_EVENTS = 50_000
ORDER = (
    "agreements",
    "adjustments",
    "reallocations",
    "changes",
    "reviews",
    "artifacts",
    "outcomes",
)
# The insights' kept outcomes and skills hold keyed hashes: compared when the check is
# given the name index (its key and opener), as the service's projector is.
HASHED = ("insight_outcomes", "insight_skills")
TABLES = (
    *ORDER,
    "people",
    "insight_memberships",
    "insight_months",
    "insight_clock",
    *HASHED,
    "audit_log",
)


@dataclass(frozen=True)
class Difference:
    """One row that is not what the events give."""

    table: str
    key: str
    agreement_id: str | None
    kind: str  # DIFFERS, MISSING (the events give it, the table lacks it), EXTRA
    columns: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the operator."""
        about = f"agreement {self.agreement_id}" if self.agreement_id else f"row {self.key}"
        if self.kind == "DIFFERS":
            what = f"column(s) {', '.join(self.columns)} differ from what the events give"
        elif self.kind == "MISSING":
            what = "the row is missing (the events give it)"
        else:
            what = "the row is there, but no event gives it"
        return f"READ MODEL DIFFERS: {about}, table {self.table} (key {self.key}): {what}"


@dataclass(frozen=True)
class ReadModelReport:
    position: int  # events compared: those up to here
    rows: int  # live rows compared
    differences: list[Difference]


def verify_read_models(
    engine: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    live_position: Callable[[Engine], int],
    wait_seconds: float = 30.0,
    names: NameIndex | None = None,
) -> ReadModelReport:
    """Rebuild into a scratch generation up to the live position and compare."""
    head = recorder.max_notification_id() or 0
    deadline = time.monotonic() + wait_seconds
    while live_position(engine) < head and time.monotonic() < deadline:
        time.sleep(0.2)  # let the projector reach the head, so little moves meanwhile
    position = live_position(engine)
    with engine.connect() as conn:
        live = read_model(int(_state(conn).generation))
    scratch = read_model(10**6 + secrets.randbelow(10**6))  # never a live generation
    scratch.metadata.create_all(engine)
    try:
        _project(engine, recorder, mapper, scratch, position, names)
        with engine.connect() as conn:
            hashed = names is not None
            return _compare(conn, live, scratch, position, hashed)
    finally:
        scratch.metadata.drop_all(engine)


def _state(conn: Connection) -> Any:
    return conn.execute(
        select(projection_state).where(projection_state.c.name == PROJECTION_NAME)
    ).one()


def _project(
    engine: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    rm: ReadModel,
    until: int,
    names: NameIndex | None,
) -> None:
    projector = BatchProjector(None, rm, remember=True, names=names)
    at = unflushed = 0
    while at < until and (batch := recorder.select_notifications(at + 1, BATCH, stop=until)):
        projector.project([(n.id, mapper.to_domain_event(n)) for n in batch])
        at, unflushed = batch[-1].id, unflushed + len(batch)
        if unflushed >= FLUSH_EVENTS:
            _flush(engine, projector)
            unflushed = 0
    _flush(engine, projector)


def _flush(engine: Engine, projector: BatchProjector) -> None:
    with engine.begin() as conn:
        projector.conn = conn
        projector.flush()


def _compare(
    conn: Connection, live: ReadModel, scratch: ReadModel, until: int, hashed: bool
) -> ReadModelReport:
    differences: list[Difference] = []
    moved: set[str] = set()  # agreements the live projector changed after `until`
    rows = 0
    clock = conn.execute(select(scratch.insight_clock)).mappings().first()
    # Months before this one were closed by the events up to `until` (None: none were).
    closing = None if clock is None else month_of(utc(clock["latest_at"]))
    for name in (t for t in TABLES if hashed or t not in HASHED):
        mine, theirs = getattr(live, name), getattr(scratch, name)
        for key, have, want in _joined(conn, mine, theirs):
            rows += have is not None
            row = have or want
            assert row is not None
            aid = row.get("agreement_id")
            if have is not None and _newer(name, have, want, until, closing):
                if name == "agreements":
                    moved.add(str(aid))
                continue
            if aid is not None and str(aid) in moved:
                continue
            if have is None:
                differences.append(Difference(name, key, aid, "MISSING"))
            elif want is None:
                differences.append(Difference(name, key, aid, "EXTRA"))
            elif changed := tuple(c for c in have if have[c] != want.get(c)):
                differences.append(Difference(name, key, aid, "DIFFERS", changed))
    return ReadModelReport(until, rows, differences)


def _newer(
    name: str, have: dict[str, Any], want: dict[str, Any] | None, until: int, closing: str | None
) -> bool:
    """Whether the live row reflects events after the compared position (`closing`: the
    month of the latest event up to it)."""
    if name == "insight_months":
        return closing is None or str(have["month"]) >= closing
    if name == "insight_clock":
        return want is None or utc(have["latest_at"]) > utc(want["latest_at"])
    if "position" in have and have["position"] is not None:
        return int(have["position"]) > until
    if name == "people" and want is not None:
        return int(have["version"]) > int(want["version"])
    return False


def _joined(
    conn: Connection, live: Table, scratch: Table
) -> Iterator[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]:
    """Both tables' rows paired by primary key (one table's rows in memory at a time;
    matched in Python, so no database collation decides what pairs up)."""
    names = [c.name for c in live.primary_key.columns]  # one column, or several

    def key(row: Any) -> str:
        return "/".join(str(row[n]) for n in names)

    want: dict[str, dict[str, Any]] = {
        key(r): dict(r) for r in conn.execute(select(scratch)).mappings()
    }
    for r in conn.execute(select(live)).mappings():
        yield key(r), dict(r), want.pop(key(r), None)
    for k, wanted in want.items():
        yield k, None, wanted
