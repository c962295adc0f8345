"""Read queries for auditors and HR beside `projections.queries`: one agreement's
timeline (its audit-log events, a page at a time by version), and the directory as a
list (names are sealed in the table, so a name search filters what the port opened).
"""

from __future__ import annotations

from collections.abc import Iterable
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
    changed_by: dict[int, Row]  # those versions' events (what a revert undid)
    names: dict[str, str]  # person id → display name (actors, the employee)
    manager_id: str | None  # the employee's current manager


TimelineRows = tuple[Row, list[Row], dict[str, int], dict[int, Row], dict[str, str], str | None]


def agreement_events(
    conn: Connection,
    rm: ReadModel,
    agreement_id: str,
    after_version: int,
    first: int,
    before_version: int | None = None,
) -> list[Row]:
    """Up to `first` + 1 audit-log events of one agreement after a version, oldest
    first (an agreement's versions follow its log positions); with `before_version`,
    the ones before that version instead, newest first (None there: from the latest)."""
    log = rm.audit_log
    # The agreement's own events: its dossiers' issues sit under it in the audit log
    # but are versions of their register, not of the agreement.
    own = (log.c.agreement_id == agreement_id) & (log.c.stream_id == agreement_id)
    if before_version is None and after_version < 0:
        where = own
        order = log.c.position.desc()
    elif after_version < 0:
        where = own & (log.c.version < before_version)
        order = log.c.position.desc()
    else:
        where = own & (log.c.version > after_version)
        order = log.c.position.asc()
    query = select(log).where(where).order_by(order).limit(first + 1)
    return [dict(r) for r in conn.execute(query).mappings()]


def people_in(events: Iterable[Row]) -> set[str]:
    """Who audit-log events name, to show them by name: their actors and the people
    work was reallocated between (plain ids in the payload; the texts are sealed)."""
    ids: set[str] = set()
    for e in events:
        if e["actor_id"]:
            ids.add(str(e["actor_id"]))
        moved = (e["payload"] or {}).get("reallocation") or {}
        ids |= {str(moved[side]) for side in ("fromPersonId", "toPersonId") if moved.get(side)}
    return ids


def events_at(
    conn: Connection, rm: ReadModel, agreement_id: str, versions: set[int]
) -> dict[int, Row]:
    """The agreement's events recorded at these versions."""
    if not versions:
        return {}
    log = rm.audit_log
    query = select(log).where(
        log.c.agreement_id == agreement_id,
        log.c.stream_id == agreement_id,  # not its dossiers' register (versions of its own)
        log.c.version.in_(sorted(versions)),
    )
    return {int(r["version"]): dict(r) for r in conn.execute(query).mappings()}


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
    before_version: int | None = None,
) -> TimelineRows | None:
    """The agreement's events after a version (a negative `after_version`: newest
    first, before `before_version`) with who recorded them and where and what each
    change a revert names was, if the viewer may read the agreement (the same
    visibility as every agreement read); None otherwise.
    Plain rows and dicts, so the port opens their sealed texts (`Timeline(*found)`)."""
    found = q.agreements_by_id(conn, rm, viewer, [agreement_id]).get(agreement_id)
    if found is None:
        return None
    events = agreement_events(conn, rm, agreement_id, after_version, first, before_version)
    # Only the changes this page's reverts name: a long history has thousands.
    reverted = {r for r in map(reverted_change, events) if r is not None}
    changes = change_versions(conn, rm, agreement_id, reverted)
    changed_by = events_at(conn, rm, agreement_id, set(changes.values()))
    ids = people_in([*events, *changed_by.values()]) | {found["employee_id"]}
    people = q.people_by_id(conn, rm, ids)
    employee = people.get(found["employee_id"])
    return (
        found,
        events,
        changes,
        changed_by,
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
