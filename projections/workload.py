"""Whose workload a viewer may see: GraphQL's `teamWorkload` and the web app's team
chart read it through here, so both show the same people to the same viewer."""

from __future__ import annotations

from sqlalchemy import Connection, select

from projections import queries as q
from projections.rows import Row
from projections.tables import ReadModel


def may_see_workloads(viewer: q.ReadScope) -> bool:
    """Managers (of their own reports) and everyone who reads everything."""
    return viewer.sees_all or viewer.is_manager


def team_members(
    conn: Connection, rm: ReadModel, viewer: q.ReadScope, team_id: str
) -> list[Row] | None:
    """The team's members' hours (`queries.team_workload`) the viewer may see: all of
    them, or a manager's own reports in it and the manager; None when the viewer may
    see none of this team's (a manager of nobody in it)."""
    if not may_see_workloads(viewer):
        return None
    rows = q.team_workload(conn, rm, team_id)
    if viewer.sees_all:
        return rows
    me = viewer.person_id
    rows = [r for r in rows if r["manager_id"] == me or r["person_id"] == me]
    return rows if any(r["manager_id"] == me for r in rows) else None


def visible_teams(conn: Connection, rm: ReadModel, viewer: q.ReadScope) -> list[str]:
    """The teams whose workload the viewer may see, by id: a manager's are the teams
    of their active reports."""
    p = rm.people
    if not may_see_workloads(viewer):
        return []
    query = select(p.c.team_id).where(p.c.active.is_(True), p.c.team_id.is_not(None))
    if not viewer.sees_all:
        query = query.where(p.c.manager_id == viewer.person_id)
    return [str(t) for (t,) in conn.execute(query.distinct().order_by(p.c.team_id)).all()]
