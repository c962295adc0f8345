"""Read queries of the directory for provisioning (SCIM): people as identity providers
see them — everyone neither deprovisioned nor erased — filtered, counted and paged by
person id. Names and e-mails are sealed here: the port opens what a query returns."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, true
from sqlalchemy.sql import ColumnElement

from projections.rows import Row
from projections.tables import ReadModel


def provisioned(rm: ReadModel) -> ColumnElement[bool]:
    """People an identity provider sees: all but those it removed and the erased."""
    return rm.people.c.deprovisioned.is_(False) & rm.people.c.erased.is_(False)


def directory_person(conn: Connection, rm: ReadModel, person_id: str) -> Row | None:
    """One person, deprovisioned, erased or not (the caller decides what to show)."""
    query = select(rm.people).where(rm.people.c.person_id == person_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)


def directory_page(
    conn: Connection,
    rm: ReadModel,
    condition: ColumnElement[bool] | None,
    offset: int,
    limit: int | None,
) -> tuple[int, list[Row]]:
    """The number of visible people matching `condition`, and one page of them in
    person-id order (`limit` None: all of them)."""
    where = provisioned(rm) & (true() if condition is None else condition)
    total = conn.execute(select(func.count()).select_from(rm.people).where(where)).scalar_one()
    query = select(rm.people).where(where).order_by(rm.people.c.person_id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return total, [dict(r) for r in conn.execute(query).mappings()]


def active_people(conn: Connection, rm: ReadModel) -> int:
    """How many people are active now (the deactivation guard's directory size)."""
    query = select(func.count()).select_from(rm.people).where(rm.people.c.active.is_(True))
    return int(conn.execute(query).scalar_one())
