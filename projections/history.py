"""Read queries for auditors and HR beside `projections.queries`: one agreement's
timeline (its audit-log events, a page at a time by version), and the directory as a
list (names are sealed in the table, so a name search filters what the port opened).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from projections import queries as q
from projections.rows import Row
from projections.tables import ReadModel


@dataclass(frozen=True)
class Timeline:
    agreement: Row
    events: list[Row]  # up to `first` + 1: the extra one tells there is a next page
    change_versions: dict[str, int]  # change id → the version that recorded it
    names: dict[str, str]  # person id → display name (actors, the employee)
    manager_id: str | None  # the employee's current manager


TimelineRows = tuple[Row, list[Row], dict[str, int], dict[str, str], str | None]


def agreement_events(
    conn: Connection, rm: ReadModel, agreement_id: str, after_version: int, first: int
) -> list[Row]:
    """Up to `first` + 1 audit-log events of one agreement after a version, oldest
    first (an agreement's versions follow its log positions)."""
    log = rm.audit_log
    query = (
        select(log)
        .where(
            log.c.agreement_id == agreement_id,
            # The agreement's own events: its dossiers' issues sit under it in the
            # audit log but are versions of their register, not of the agreement.
            log.c.stream_id == agreement_id,
            log.c.version > after_version,
        )
        .order_by(log.c.position)
        .limit(first + 1)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def reverted_change(event: Row) -> str | None:
    """The change a revert reverted (its change id), or None for any other event."""
    if event["type"] != "ChangeReverted":
        return None
    found = (event["payload"] or {}).get("revertedChangeId")
    return None if found is None else str(found)


def change_versions(
    conn: Connection, rm: ReadModel, agreement_id: str, change_ids: set[str]
) -> dict[str, int]:
    """The version that recorded each of these changes of the agreement."""
    if not change_ids:
        return {}
    ch = rm.changes
    query = select(ch.c.change_id, ch.c.version).where(
        ch.c.change_id.in_(sorted(change_ids)), ch.c.agreement_id == agreement_id
    )
    return {str(r.change_id): int(r.version) for r in conn.execute(query)}


def timeline(
    conn: Connection,
    rm: ReadModel,
    viewer: q.ReadScope,
    agreement_id: str,
    after_version: int,
    first: int,
) -> TimelineRows | None:
    """The agreement's events after a version with who recorded them and where each
    change was recorded (reverts name the change they revert), if the viewer may read
    the agreement (the same visibility as every agreement read); None otherwise.
    Plain rows and dicts, so the port opens their sealed texts (`Timeline(*found)`)."""
    found = q.agreements_by_id(conn, rm, viewer, [agreement_id]).get(agreement_id)
    if found is None:
        return None
    events = agreement_events(conn, rm, agreement_id, after_version, first)
    # Only the changes this page's reverts name: a long history has thousands.
    reverted = {r for r in map(reverted_change, events) if r is not None}
    changes = change_versions(conn, rm, agreement_id, reverted)
    ids = {e["actor_id"] for e in events} | {found["employee_id"]}
    people = q.people_by_id(conn, rm, ids)
    employee = people.get(found["employee_id"])
    return (
        found,
        events,
        changes,
        {pid: p["display_name"] for pid, p in people.items()},
        None if employee is None else employee["manager_id"],
    )


def people_after(conn: Connection, rm: ReadModel, after: str | None, limit: int) -> list[Row]:
    """Up to `limit` people of the directory in person-id order after `after` (no access
    check: the caller decides who may list the directory)."""
    p = rm.people
    query = select(p).order_by(p.c.person_id).limit(limit)
    if after is not None:
        query = query.where(p.c.person_id > after)
    return [dict(r) for r in conn.execute(query).mappings()]
