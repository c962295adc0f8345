"""An agreement's history for everyone who may read it: the timeline (every event with
who, as what, why, in which request and when), what each version changed, and the
agreement as it was at a version or instant (time travel, from the events)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from api import read_side
from api.read_side import Row, agreement_row, reverted_change
from api.web.differences import differences, names_of, people_in
from api.web.events import change_named, describe
from api.web.lookups import PAGE, agreement_viewer, bad_query, partial, version_param
from api.web.navigation import may_act
from api.web.sessions import Session
from api.web.site import Site, scope_of
from domain.access import Actor, Party
from domain.agreement import Agreement
from domain.errors import DomainError, Forbidden, NotFound

NOT_YET = "The agreement did not exist yet at that instant."


class HistoryPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def timeline(self, request: Request) -> Response:
        """The agreement's events a page at a time: oldest first (`?after=<version>`)
        or newest first (`?order=newest`, `&before=<version>`)."""
        seen = await agreement_viewer(self.site, request)
        if isinstance(seen, Response):
            return seen
        session, aid = seen[0], str(seen[1])
        newest = request.query_params.get("order") == "newest"
        after = version_param(request.query_params.get("after"))
        before = version_param(request.query_params.get("before"), default=-1)
        if after is None or before is None:
            return bad_query(
                self.site, request, session, "after and before must be version numbers.", aid
            )
        scope = scope_of(session)
        found = await asyncio.to_thread(
            self.site.ports.reads.run,
            lambda conn, rm: read_side.timeline(
                conn,
                rm,
                scope,
                aid,
                -1 if newest else after,
                PAGE,
                None if not newest or before < 0 else before,
            ),
        )
        if found is None:
            return self.site.not_found(request, session)
        t = read_side.Timeline(*found)
        events, more = t.events[:PAGE], len(t.events) > PAGE
        shown = {int(e["version"]) for e in events}
        entries = []
        for e in events:
            reverted = reverted_change(e)
            target = None if reverted is None else t.change_versions.get(reverted)
            what = None
            if reverted is not None and target is not None and target in t.changed_by:
                what = change_named(t.changed_by[target], reverted, t.names)
            entries.append(
                {
                    "event": e,
                    "says": describe(e, t.names) if what is None else f"Reverted {what}",
                    "actor": t.names.get(e["actor_id"], e["actor_id"]),
                    "reverts": target,
                    "reverts_what": what or "a change",
                    # The reverted change is on this page: no need to load another.
                    "reverts_here": target in shown,
                }
            )
        manager = may_act(session.actor, Party.MANAGER, t.agreement["employee_id"], t.manager_id)
        return self.site.render(
            request,
            "timeline.html",
            session,
            a=t.agreement,
            entries=entries,
            newest=newest,
            after=after,
            before=before,
            next_cursor=int(events[-1]["version"]) if more else None,
            latest_after=max(int(t.agreement["version"]) - PAGE, 0),
            may_revert=manager,  # the revert preview decides again
            employee=t.names.get(t.agreement["employee_id"], t.agreement["employee_id"]),
        )

    async def _past(
        self, actor: Actor, aid: UUID, version: int | None, at: datetime | None
    ) -> Agreement | str | None:
        """The agreement at a version or instant; a message for a bad version or
        instant; None when the viewer may not read it (or it does not exist)."""
        commands = self.site.ports.commands
        try:
            return await asyncio.to_thread(commands.agreement_at, actor, aid, version, at)
        except Forbidden:
            return None
        except NotFound as error:
            return NOT_YET if error.field == "at" else None
        except DomainError as error:
            return None if error.field == "agreementId" else error.message

    async def _before_it_existed(
        self, request: Request, session: Session, aid: UUID, at: datetime
    ) -> Response:
        """An instant before the agreement was proposed: when it was, and the way back
        to its timeline (a 404: there is no agreement at that instant)."""
        first = await self._past(session.actor, aid, 1, None)
        if not isinstance(first, Agreement):
            return self.site.not_found(request, session)
        return self.site.render(
            request,
            "agreement_not_yet.html",
            session,
            404,
            aid=aid,
            title=first.title,
            at=at.astimezone(UTC),
            proposed=first.created_on.astimezone(UTC),
        )

    async def what_changed(self, request: Request) -> Response:
        """What version N changed (`?version=N`), field by field: a fragment for htmx
        (the timeline's "What changed"), else a page."""
        seen = await agreement_viewer(self.site, request)
        if isinstance(seen, Response):
            return seen
        session, aid = seen
        version = version_param(request.query_params.get("version"), default=-1)
        if version is None or version < 1:
            return bad_query(self.site, request, session, "version must be a number from 1.", aid)
        after = await self._past(session.actor, aid, version, None)
        before = None
        if version > 1:
            before = await self._past(session.actor, aid, version - 1, None)
        if isinstance(after, str):
            return bad_query(self.site, request, session, after, aid)
        if after is None or isinstance(before, str):
            return self.site.not_found(request, session)
        then = None if before is None else agreement_row(before)
        now = agreement_row(after)
        names = await asyncio.to_thread(names_of, self.site.ports, people_in(then, now))
        template = "changes_fragment.html" if partial(request) else "changes.html"
        return self.site.render(
            request,
            template,
            session,
            a=now,
            version=version,
            found=differences(then, now, names),
        )

    async def as_of(self, request: Request) -> Response:
        """The agreement as it was at `?version=N` or `?at=<ISO instant>` (in the
        person's time zone when the instant has none, as the form says)."""
        seen = await agreement_viewer(self.site, request)
        if isinstance(seen, Response):
            return seen
        session, aid = seen
        raw_version, raw_at = request.query_params.get("version"), request.query_params.get("at")
        version = version_param(raw_version, default=-1)
        if version is None or (raw_version and version < 1):
            return bad_query(self.site, request, session, "version must be a number from 1.", aid)
        at = None
        if raw_at:
            try:
                at = datetime.fromisoformat(raw_at)
            except ValueError:
                message = "at must be an instant such as 2026-11-24T10:00:00Z."
                return bad_query(self.site, request, session, message, aid)
            # Typed in the timeline's form: in the person's zone, as the times shown are.
            zone = ZoneInfo(getattr(request.state, "zone", None) or "UTC")
            at = at if at.tzinfo is not None else at.replace(tzinfo=zone)
        if version < 1 and at is None:
            return bad_query(self.site, request, session, "Give a version or an instant (at).", aid)
        past = await self._past(session.actor, aid, None if version < 1 else version, at)
        if past == NOT_YET and at is not None:
            return await self._before_it_existed(request, session, aid, at)
        if isinstance(past, str):
            return bad_query(self.site, request, session, past, aid)
        if past is None:
            return self.site.not_found(request, session)
        row: Row = agreement_row(past)
        kids = {kind: row["_children"][kind]() for kind in ("adjustments", "reallocations")}
        kids["reviews"] = row["_children"]["reviews"]()
        names = await asyncio.to_thread(names_of, self.site.ports, people_in(row))
        return self.site.render(
            request,
            "agreement_as_of.html",
            session,
            a=row,
            children=kids,
            names=names,
            at=at,
        )
