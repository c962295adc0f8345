"""One person of the directory, and HR's jobs on them: place or lift a legal hold,
erase them (asked first, on a page that names them, so it works without script). The
same commands as GraphQL's, through the same port; only HR may send them (the handlers
decide; the page shows the forms to HR alone)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api import read_side
from api.http.consistency import ConsistencyWaiter, NotYetConsistent
from api.http.numbers import whole_number
from api.read_side import ReadModel, erasure_of, holds_of
from api.web import csrf
from api.web.checks import FormErrors
from api.web.forms import Submitted
from api.web.sessions import Session
from api.web.site import Site, to_sign_in
from api.web.words import reason_words
from domain.access import sees_all
from domain.application import commands as c
from domain.errors import DomainError, Forbidden
from domain.sealing import KeysUnavailable
from domain.values import Role

Endpoint = Callable[[Request], Awaitable[Response]]


def _person(person_id: str) -> Callable[[Connection, ReadModel], dict[str, Any] | None]:
    def read(conn: Connection, rm: ReadModel) -> dict[str, Any] | None:
        person = read_side.people_by_id(conn, rm, [person_id]).get(person_id)
        if person is None:
            return None
        ids = {person["manager_id"]} - {None}
        hold = holds_of(conn, rm, [person]).get(person_id)
        erasure = erasure_of(conn, rm, person["stream_id"]) if person["erased"] else None
        actors = {row["actor_id"] for row in (hold, erasure) if row is not None}
        names = read_side.people_by_id(conn, rm, ids | actors)
        return {
            "person": person,
            "hold": hold,
            "erasure": erasure,
            "names": {pid: p["display_name"] for pid, p in names.items()},
        }

    return read


class PersonPages:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.waiter = ConsistencyWaiter(site.ports.reads.engine)

    def routes(self, guarded: Callable[[Endpoint], Endpoint]) -> list[Route]:
        return [
            Route("/people/{person_id}", guarded(self.show)),
            Route("/people/{person_id}/hold", guarded(self.place_hold), methods=["POST"]),
            Route("/people/{person_id}/lift", guarded(self.lift_hold), methods=["POST"]),
            Route("/people/{person_id}/erase", guarded(self.erase), methods=["POST"]),
        ]

    async def _read(self, person_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self.site.ports.reads.run, _person(person_id[:128]))

    def _page(
        self,
        request: Request,
        session: Session,
        found: dict[str, Any],
        status: int = 200,
        **values: Any,
    ) -> Response:
        erasure = found.get("erasure")
        return self.site.render(
            request,
            "person.html",
            session,
            status,
            **found,
            erasure_reason=reason_words("PersonErased", erasure["reason"]) if erasure else None,
            is_hr=session.actor.has(Role.HR),
            **values,
        )

    async def show(self, request: Request) -> Response:
        """`/people/<id>`: who they are, their hold or erasure and its reason; HR's
        forms. Those who may not read the directory get the same 404 as for a person
        who does not exist."""
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        if not sees_all(session.actor):
            return self.site.not_found(request, session)
        position = whole_number(request.query_params.get("recorded", ""))
        if position is not None:
            # After HR's own write: wait until the page shows it (unless the projector
            # lags too long; then the page is shown as it is).
            with suppress(NotYetConsistent):
                await self.waiter.wait(session.actor.id, position)
        found = await self._read(request.path_params["person_id"])
        if found is None:
            return self.site.not_found(request, session)
        return self._page(request, session, found, recorded=position is not None)

    async def place_hold(self, request: Request) -> Response:
        return await self._act(request, "hold", c.PlaceLegalHold)

    async def lift_hold(self, request: Request) -> Response:
        return await self._act(request, "lift", c.LiftLegalHold)

    async def erase(self, request: Request) -> Response:
        return await self._act(request, "erase", c.ErasePerson, confirm=True)

    async def _act(
        self,
        request: Request,
        name: str,
        command: type[c.PersonCommand],
        *,
        confirm: bool = False,
    ) -> Response:
        """One of HR's commands from the person page's form `name`: CSRF checked, the
        idempotency key made when the page was rendered; a refusal shown at its form
        with an error summary; `confirm`: a page that names the person asks first."""
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        form = Submitted.of(await request.form())
        if not self.site.csrf_ok(request, session, form.get(csrf.FIELD) or None):
            return self.site.forbidden(request, session)
        person_id = request.path_params["person_id"]
        found = await self._read(person_id) if sees_all(session.actor) else None
        if found is None or not session.actor.has(Role.HR):
            return self.site.not_found(request, session)
        key = form.idempotency_key()
        if key is None:
            return self.site.incomplete_form(request, session)
        reason = form.text("reason")
        if confirm and reason and form.get("confirmed") != "yes":
            # Nothing is recorded yet: the page that asks carries the form's values.
            return self.site.render(
                request,
                "person_confirm.html",
                session,
                person=found["person"],
                action=request.url.path,
                fields=[(k, v) for k, v in form.values.items() if k != "confirmed"],
            )
        try:
            result = await asyncio.to_thread(
                self.site.ports.commands.execute,
                self.site.command_request(session),
                command(person_id=person_id, reason=reason, idempotency_key=key),
            )
        except Forbidden:
            return self.site.not_found(request, session)
        except KeysUnavailable:
            return self.site.keys_unavailable(request, session)
        except DomainError as error:
            name_of = str(found["person"]["display_name"])
            errors = FormErrors.of(error, lambda _f: "Reason", lambda f: f).errors
            # The domain names the person by id; the page by name.
            errors = {
                ("reason" if k == "reason" else "form"): v.replace(f"'{person_id}'", name_of)
                for k, v in errors.items()
            }
            return self._page(
                request, session, found, 422, failed=name, errors=errors, form=form.values
            )
        return RedirectResponse(
            f"/people/{quote(person_id, safe='')}?recorded={result.position}#recorded", 303
        )
