"""The manager's own pages: the inbox (what awaits them on their reports' agreements)
and the team's workload as a chart."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from api import read_side
from api.web.navigation import REVIEW_HORIZON
from api.web.sessions import Session
from api.web.site import PageRead, Site, scope_of, signed_in, to_sign_in
from domain.ledger import limit_reached
from domain.values import Role

SHOWN = 50  # per inbox list; the rest are reached through the agreements themselves
CHART_WIDTH = 360  # px of the longest bar


def event_label(type_name: str) -> str:
    """'TaskReallocated' → 'Task reallocated'."""
    return re.sub(r"(?<!^)([A-Z])", lambda m: " " + m.group(1).lower(), type_name)


def chart(members: list[dict[str, Any]], limit: float) -> dict[str, Any]:
    """Bars per person (development hours, hours given, hours received net) on one
    scale that always shows the receiving limit. Bars start at zero; a negative net
    (more given than received) is drawn leftwards from it, so every figure has a bar.
    The limit is only marked on the received bar: it limits nothing else."""
    values = [float(m[k]) for m in members for k in ("development", "given", "net")]
    below = max([0.0] + [-float(m["net"]) for m in members])
    top = max([limit, 1.0, *values])

    def width(hours: float) -> int:
        return round(abs(hours) / (top + below) * CHART_WIDTH)

    zero = width(below)

    def start(hours: float) -> int:
        """Where a bar of these hours begins, from the zero line."""
        return zero - width(hours) if hours < 0 else zero

    return {
        "width": width,
        "start": start,
        "zero": zero,
        "limit_x": zero + width(limit),
        "full": CHART_WIDTH,
    }


class TeamPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def inbox(self, request: Request) -> Response:
        """HR sees everyone's; a manager their reports'; anyone else has no inbox. Its
        lists are read in the session's transaction (`Site.session_reading`)."""
        today = datetime.now(UTC).date()

        def lists(session: Session) -> PageRead[dict[str, Any]] | None:
            actor = session.actor
            if not (actor.has(Role.HR) or actor.has(Role.MANAGER)):
                return None
            manager_id = None if actor.has(Role.HR) else actor.id
            scope = scope_of(session)
            return lambda conn, rm: read_side.inbox(
                conn, rm, scope, manager_id, today + REVIEW_HORIZON, SHOWN
            )

        checked = await self.site.session_reading(request, lists)
        if checked is None:
            return to_sign_in()
        session, found = checked
        if found is None:
            return self.site.not_found(request, session)
        for row in found["activity"]:
            row["label"] = event_label(row["type"])
        return self.site.render(
            request,
            "inbox.html",
            session,
            shown=SHOWN,
            today=today,
            everyone=session.actor.has(Role.HR),
            **found,
        )

    @signed_in
    async def team(self, request: Request, session: Session) -> Response:
        """A team's hours, as GraphQL's teamWorkload gives them to the same person."""
        scope = scope_of(session)
        wanted = request.query_params.get("team", "")[:128]
        reads = self.site.ports.reads

        def read(conn: Any, rm: Any) -> tuple[list[str], list[dict[str, Any]] | None]:
            teams = read_side.visible_teams(conn, rm, scope)
            team = wanted or (teams[0] if teams else "")
            return teams, read_side.team_members(conn, rm, scope, team) if team else None

        teams, rows = await asyncio.to_thread(reads.run, read)
        if not read_side.may_see_workloads(scope) or (wanted and rows is None):
            return self.site.not_found(request, session)
        limit = reads.receiving_limit_per_week
        members = [
            {
                "id": r["person_id"],
                "name": r["display_name"],
                "contracted": float(r["contracted_hours_per_week"]),
                "development": float(r["development_hours"]),
                "given": float(r["hours_given"]),
                "received": float(r["hours_received"]),
                "net": float(r["hours_received"]) - float(r["hours_given"]),
            }
            for r in rows or []
        ]
        for m in members:
            m["reached"] = limit_reached(m["net"], limit)
        return self.site.render(
            request,
            "team.html",
            session,
            teams=teams,
            team=wanted or (teams[0] if teams else None),
            members=members,
            limit=limit,
            chart=chart(members, limit),
        )
