"""A manager's reports at a glance: each report, their current agreement and their
hours. The hours come from `workload.team_members` (what GraphQL's `teamWorkload`
reads) and the agreements from `queries.list_agreements` (what `agreements` and
`reviewsDue` read), so the page and the API cannot disagree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from projections import queries as q
from projections import workload
from projections.rows import Row
from projections.tables import ReadModel

RUNNING = ("PROPOSED", "CHANGES_REQUESTED", "ACTIVE", "PAUSED")  # not yet ended
MOST = 2000  # agreements read for one manager's reports (500 reports, a few each)


def current_agreement(agreements: list[Row]) -> Row | None:
    """The agreement a report's row tells about: the latest still running, else the
    latest ended one."""
    if not agreements:
        return None
    latest = sorted(agreements, key=lambda a: a["updated_at"], reverse=True)
    return next((a for a in latest if a["status"] in RUNNING), latest[0])


def reports(
    conn: Connection, rm: ReadModel, viewer: q.ReadScope, manager_id: str
) -> dict[str, Any]:
    """The manager's active reports (`people`), their hours by person id (`hours`),
    and their current agreement by person id (`agreements`)."""
    people = q.reports_of(conn, rm, manager_id)
    hours: dict[str, Row] = {}
    for team in sorted({str(r["team_id"]) for r in people if r["team_id"] is not None}):
        for row in workload.team_members(conn, rm, viewer, team) or []:
            hours[row["person_id"]] = row
    mine: dict[str, list[Row]] = {}
    where = q.AgreementCriteria(manager_id=manager_id)
    for row in q.list_agreements(conn, rm, viewer, where, MOST, None):
        mine.setdefault(row["employee_id"], []).append(row)
    current = {pid: current_agreement(rows) for pid, rows in mine.items()}
    return {
        "people": people,
        "hours": hours,
        "agreements": {pid: a for pid, a in current.items() if a is not None},
    }
