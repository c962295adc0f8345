"""The audit-log search for those who read everything (HR, auditors): the events
filtered by actor, type and time, newest first, as GraphQL's `auditLog` reads them."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from api import read_side
from api.read_side import ReadModel, Row
from api.web.events import SEARCHABLE_TYPES, describe
from api.web.lookups import PAGE, bad_query, viewer, whole
from api.web.site import Site
from api.web.times import naive_in_zone
from api.web.words import event_words, reason_words, role_words
from domain.access import sees_all

MAX_TYPES = 50  # as GraphQL's auditLog filter


class AuditLogPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def search(self, request: Request) -> Response:
        """`/audit?actor=&type=&from=&to=&after=<position>`."""
        session = await viewer(self.site, request)
        if isinstance(session, Response):
            return session
        if not sees_all(session.actor):
            return self.site.not_found(request, session)
        params = request.query_params
        actor = params.get("actor", "").strip()[:128]
        types = tuple(t for t in params.getlist("type") if t)[:MAX_TYPES]
        after = whole(params.get("after"), default=-1)
        # The dates typed are in the person's time zone, as the times shown are.
        zone = getattr(request.state, "zone", "UTC")
        try:
            start = naive_in_zone(params.get("from", ""), zone)
            end = naive_in_zone(params.get("to", ""), zone)
        except ValueError:
            message = "from and to must be dates or instants such as 2026-11-24T10:00."
            return bad_query(self.site, request, session, message)
        if after is None:
            return bad_query(self.site, request, session, "after must be a log position.")
        # Who did it, by name or by person id: a person finds "Priya Raman" by her name.
        where = read_side.AuditFilter(
            actor_id=actor or None,
            actor_tokens=self.site.ports.reads.name_tokens(actor),
            types=types,
            recorded_from=start,
            recorded_to=end,
        )
        cursor = None if after < 0 else after

        def read(conn: Connection, rm: ReadModel) -> tuple[list[Row], dict[str, str]]:
            rows = read_side.audit_log(conn, rm, where, PAGE, cursor, True)
            # The actors, and the people work was reallocated between, by name.
            people = read_side.people_by_id(conn, rm, read_side.people_in(rows))
            return rows, {pid: p["display_name"] for pid, p in people.items()}

        rows, names = await asyncio.to_thread(self.site.ports.reads.run, read)
        events, more = rows[:PAGE], len(rows) > PAGE
        kept = [(k, v) for k, v in params.multi_items() if k != "after" and v]
        next_url = (
            "/audit?" + urlencode([*kept, ("after", str(events[-1]["position"]))]) if more else None
        )
        return self.site.render(
            request,
            "audit_log.html",
            session,
            entries=[
                {
                    "event": e,
                    "says": describe(e, names),
                    "kind": event_words(e["type"], e["stream_type"]),
                    "actor": names.get(e["actor_id"]),
                    "role": role_words(e["actor_role"]),
                    "reason": reason_words(e["type"], e["reason"]),
                }
                for e in events
            ],
            types=[(t, event_words(t)) for t in SEARCHABLE_TYPES],
            chosen={"actor": actor, "types": types, "from": params.get("from", "")}
            | {"to": params.get("to", "")},
            next_url=next_url,
            first_page=cursor is None,
        )
