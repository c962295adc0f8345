"""The held deactivation wave (domain.directory_guard): who the identity provider asked
to deactivate past the guard's share, by name, and HR's decision on all of them at once
— deactivate them, or keep them active. The same commands as GraphQL's
`confirmDeactivations` / `dismissDeactivations`, through the same port; the handlers
decide who may send them (HR). Asked first: in a dialog where script runs, on a page of
its own without script, naming the people."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api import read_side
from api.http.consistency import ConsistencyWaiter, NotYetConsistent
from api.http.numbers import whole_number
from api.read_side import ReadModel
from api.web import csrf
from api.web.checks import FormErrors
from api.web.forms import Submitted
from api.web.sessions import Session
from api.web.site import Site, to_sign_in
from domain.access import sees_all
from domain.application import commands as c
from domain.errors import DomainError, Forbidden, VersionConflict
from domain.values import Role

Endpoint = Callable[[Request], Awaitable[Response]]

# The two decisions: the command, and what the page calls it.
DECISIONS: dict[str, type[c.WaveDecision]] = {
    "deactivate": c.ConfirmDeactivations,
    "keep": c.DismissDeactivations,
}
WAVE = "wave"  # the form field naming the people the page showed


def _named(held: list[tuple[str, datetime]]) -> Callable[[Connection, ReadModel], dict[str, Any]]:
    def read(conn: Connection, rm: ReadModel) -> dict[str, Any]:
        people = read_side.people_by_id(conn, rm, [pid for pid, _ in held])
        managers = {p["manager_id"] for p in people.values()} - {None}
        names = read_side.people_by_id(conn, rm, managers)
        return {
            "wave": [
                {"person_id": pid, "held_at": at, "person": people.get(pid)} for pid, at in held
            ],
            "managers": {pid: p["display_name"] for pid, p in names.items()},
        }

    return read


def name_of(entry: dict[str, Any]) -> str:
    """A held person's name (their id while the directory's read model catches up)."""
    person = entry["person"]
    return str(person["display_name"]) if person is not None else str(entry["person_id"])


class DeactivationPages:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.waiter = ConsistencyWaiter(site.ports.reads.engine)

    def routes(self, guarded: Callable[[Endpoint], Endpoint]) -> list[Route]:
        return [
            Route("/deactivations", guarded(self.show)),
            *(
                Route(f"/deactivations/{name}", guarded(self._decision(name)), methods=["POST"])
                for name in DECISIONS
            ),
        ]

    async def _wave(self) -> dict[str, Any]:
        held = await asyncio.to_thread(self.site.ports.commands.held_deactivations)
        return await asyncio.to_thread(self.site.ports.reads.run, _named(held))

    def _page(
        self, request: Request, session: Session, found: dict[str, Any], status: int = 200, **v: Any
    ) -> Response:
        wave = found["wave"]
        return self.site.render(
            request,
            "deactivations.html",
            session,
            status,
            **found,
            names=[name_of(e) for e in wave],
            shown=",".join(e["person_id"] for e in wave),
            is_hr=session.actor.has(Role.HR),
            **v,
        )

    async def show(self, request: Request) -> Response:
        """`/deactivations`: the held wave, by name; HR's two decisions. Those who may not
        read the directory get the same 404 as for a page that does not exist."""
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        if not sees_all(session.actor):
            return self.site.not_found(request, session)
        params = request.query_params
        position = whole_number(params.get("recorded", ""))
        if position is not None:
            # After HR's decision: the directory shows it (unless the projector lags
            # too long; then the page is shown as it is).
            with suppress(NotYetConsistent):
                await self.waiter.wait(session.actor.id, position)
        decided = params.get("decided") if position is not None else None
        return self._page(
            request,
            session,
            await self._wave(),
            decided=decided if decided in DECISIONS else None,
            decided_count=whole_number(params.get("people", "")) or 0,
        )

    def _decision(self, name: str) -> Endpoint:
        async def decide(request: Request) -> Response:
            return await self._decide(request, name)

        decide.__name__ = f"decide_{name}"
        return decide

    async def _decide(self, request: Request, name: str) -> Response:
        """HR's decision `name` on the wave the page showed: CSRF checked, the
        idempotency key made when the page was rendered; asked first; refused (in an
        error summary) when the wave changed since the page was shown."""
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        form = Submitted.of(await request.form())
        if not self.site.csrf_ok(request, session, form.get(csrf.FIELD) or None):
            return self.site.forbidden(request, session)
        if not session.actor.has(Role.HR):
            return self.site.not_found(request, session)
        key = form.idempotency_key()
        if key is None:
            return self.site.incomplete_form(request, session)
        found = await self._wave()
        now = [e["person_id"] for e in found["wave"]]
        if not now or form.get(WAVE) != ",".join(now):
            # Not even asked to confirm: HR would be deciding on people they have not
            # seen. (The command checks it again, in the transaction that decides.)
            message = (
                "Nothing is held any more: someone has decided on this wave already."
                if not now
                else "The held deactivations changed since you opened this page: check who "
                "is held now and decide again."
            )
            return self._page(request, session, found, 409, failed=name, errors={"form": message})
        reason = form.text("reason")
        if form.get("confirmed") != "yes":
            # Nothing is recorded yet: the page that asks carries the form's values.
            return self.site.render(
                request,
                "deactivations_confirm.html",
                session,
                decision=name,
                names=[name_of(e) for e in found["wave"]],
                fields=[(k, v) for k, v in form.values.items() if k != "confirmed"],
            )
        try:
            result = await asyncio.to_thread(
                self.site.ports.commands.execute,
                self.site.command_request(session),
                DECISIONS[name](reason=reason, idempotency_key=key, people=tuple(now)),
            )
        except Forbidden:
            return self.site.not_found(request, session)
        except DomainError as error:
            errors = FormErrors.of(error, lambda _f: "Reason", lambda f: f).errors
            errors = {("reason" if k == "reason" else "form"): v for k, v in errors.items()}
            status = 409 if isinstance(error, VersionConflict) else 422
            found = await self._wave()  # as it is now, when the wave changed meanwhile
            return self._page(
                request, session, found, status, failed=name, errors=errors, form=form.values
            )
        return RedirectResponse(
            f"/deactivations?recorded={result.position}&decided={name}"
            f"&people={len(result.people)}#recorded",
            303,
        )
