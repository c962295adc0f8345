"""HR's view across the organisation: the people directory (searched by name) and
everyone's agreements, filtered, a page at a time — with GraphQL's visibility: the
directory for those who read everything, agreements within the viewer's scope."""

from __future__ import annotations

import asyncio
from functools import partial
from urllib.parse import urlencode

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from api import read_side
from api.read_side import ReadModel, Row
from api.web.lookups import PAGE, bad_query, viewer, whole
from api.web.site import Site, scope_of
from domain.access import sees_all
from domain.values import AgreementStatus

SCAN = 500  # people read per round while searching (names are sealed in the table)
MAX_SCANNED = 20_000  # a search stops there and offers to continue


def _people_after(after: str | None, conn: Connection, rm: ReadModel) -> list[Row]:
    return read_side.people_after(conn, rm, after, SCAN)


def _next(request: Request, after: str) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "after" and v]
    return f"{request.url.path}?{urlencode([*kept, ('after', after)])}"


class DirectoryPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def people(self, request: Request) -> Response:
        """`/people?q=<name>&after=<person id>`: the directory in person-id order."""
        session = await viewer(self.site, request)
        if isinstance(session, Response):
            return session
        if not sees_all(session.actor):
            return self.site.not_found(request, session)
        needle = request.query_params.get("q", "").strip().casefold()[:200]
        after = request.query_params.get("after") or None
        found: list[Row] = []
        scanned, cursor, exhausted = 0, after, False
        # The port opens names after the query: match them here, a round at a time.
        while len(found) <= PAGE and scanned < MAX_SCANNED:
            batch = await asyncio.to_thread(
                self.site.ports.reads.run, partial(_people_after, cursor)
            )
            scanned += len(batch)
            for person in batch:
                cursor = person["person_id"]
                name = str(person["display_name"]).casefold()
                if not needle or needle in name or needle in person["person_id"].casefold():
                    found.append(person)
                    if len(found) > PAGE:
                        break
            if len(batch) < SCAN:
                exhausted = True
                break
        shown = found[:PAGE]
        more = len(found) > PAGE or (not exhausted and cursor is not None)
        resume = shown[-1]["person_id"] if len(found) > PAGE else cursor
        managers = {p["manager_id"] for p in shown if p["manager_id"]}

        def read(conn: Connection, rm: ReadModel) -> tuple[dict[str, Row], dict[str, Row]]:
            return read_side.people_by_id(conn, rm, managers), read_side.holds_of(conn, rm, shown)

        names, holds = await asyncio.to_thread(self.site.ports.reads.run, read)
        return self.site.render(
            request,
            "people.html",
            session,
            people=shown,
            managers={pid: p["display_name"] for pid, p in names.items()},
            holds=holds,  # person id → the hold in force (its reason)
            q=request.query_params.get("q", ""),
            next_url=_next(request, resume) if more and resume else None,
            first_page=after is None,
            held=getattr(request.state, "held", None),  # HR's: deactivations to decide
        )

    async def agreements(self, request: Request) -> Response:
        """`/agreements?status=&employee=&team=&after=<position>`: the agreements the
        viewer may read (everyone's for HR and auditors), in creation order."""
        session = await viewer(self.site, request)
        if isinstance(session, Response):
            return session
        params = request.query_params
        status = params.get("status", "")
        if status and status not in AgreementStatus.__members__:
            return bad_query(self.site, request, session, "Pick a status from the list.")
        after = whole(params.get("after"), default=-1)
        if after is None:
            return bad_query(self.site, request, session, "after must be a log position.")
        employee = params.get("employee", "").strip()[:128]
        where = read_side.AgreementCriteria(
            status=status or None,
            # The employee by name (or by person id): "Sam Tester" finds Sam's agreements.
            employee_id=employee or None,
            employee_tokens=self.site.ports.reads.name_tokens(employee),
            team_id=params.get("team", "").strip()[:128] or None,
        )
        scope, cursor = scope_of(session), None if after < 0 else after

        def read(conn: Connection, rm: ReadModel) -> tuple[list[Row], dict[str, str]]:
            rows = read_side.list_agreements(conn, rm, scope, where, PAGE, cursor)
            people = read_side.people_by_id(conn, rm, {r["employee_id"] for r in rows})
            return rows, {pid: p["display_name"] for pid, p in people.items()}

        rows, names = await asyncio.to_thread(self.site.ports.reads.run, read)
        shown, more = rows[:PAGE], len(rows) > PAGE
        return self.site.render(
            request,
            "all_agreements.html",
            session,
            agreements=shown,
            names=names,
            statuses=list(AgreementStatus),
            chosen={"status": status, "employee": where.employee_id, "team": where.team_id},
            next_url=_next(request, str(shown[-1]["created_position"])) if more else None,
            first_page=cursor is None,
        )
