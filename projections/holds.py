"""Legal holds and erasures as the audit log records them: the reason and who placed
the hold in force, or who erased the person and why (the directory's row says only
whether a person is held or erased)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from projections.rows import Row
from projections.tables import ReadModel


def hold_reason(conn: Connection, rm: ReadModel, stream_id: object) -> Row | None:
    """The audit row of the hold in force: the person's latest LegalHoldPlaced (its
    reason and who placed it when). A plain row: the port opens its sealed reason."""
    a = rm.audit_log
    query = (
        select(a.c.reason, a.c.actor_id, a.c.recorded_at)
        .where(a.c.stream_id == stream_id, a.c.type == "LegalHoldPlaced")
        .order_by(a.c.position.desc())
        .limit(1)
    )
    found = conn.execute(query).mappings().first()
    return dict(found) if found is not None else None


def erasure_of(conn: Connection, rm: ReadModel, stream_id: object) -> Row | None:
    """The audit row of the person's erasure (its reason, who erased them when), or
    None. Its reason is HR's, in clear since erasure reasons are kept (domain.person);
    an older erasure's reason was sealed under the destroyed key and opens as erased."""
    a = rm.audit_log
    query = (
        select(a.c.reason, a.c.actor_id, a.c.recorded_at)
        .where(a.c.stream_id == stream_id, a.c.type == "PersonErased")
        .order_by(a.c.position.desc())
        .limit(1)
    )
    found = conn.execute(query).mappings().first()
    return dict(found) if found is not None else None


def holds_of(conn: Connection, rm: ReadModel, people: list[Row]) -> dict[str, Row]:
    """The hold in force of each held person of `people`, by person id."""
    found: dict[str, Row] = {}
    for p in people:
        if p["legal_hold"]:
            row = hold_reason(conn, rm, p["stream_id"])
            if row is not None:
                found[p["person_id"]] = row
    return found
