"""What every web page shares: the templates, the signed-in session (checked on every
request), the CSRF token, and rendering with the cookie kept fresh."""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api import read_side
from api.http import logs
from api.http.auth import InvalidTokenError
from api.http.ratelimit import RateLimiter
from api.ports import Ports
from api.read_side import ReadModel
from api.web import csrf
from api.web.assets import Assets
from api.web.choices import option_tags, people_choices, receivers_of
from api.web.navigation import COUNTED, REVIEW_HORIZON, has_inbox, links
from api.web.sessions import COOKIE, REFRESH_AFTER, Session, cookie_value, read_session
from api.web.sketch_view import drawn_sketch
from api.web.times import COOKIE as TZ_COOKIE
from api.web.times import local, zone_of
from api.web.words import roles_phrase
from domain.access import sees_all
from domain.application import Request as CommandRequest
from domain.values import AdjustmentKind, ArtifactKind, Role

TEMPLATES = Path(__file__).parent / "templates"
T = TypeVar("T")
Header = tuple[str | None, int | None]  # the directory's name, how much awaits in the inbox
PageRead = Callable[[Connection, ReadModel], T]
"""A page's own read-model query, run in the header's transaction (`session_reading`)."""
ADJUSTMENT_KINDS = {
    AdjustmentKind.TASK: "Task: what you do",
    AdjustmentKind.RELATIONAL: "Relational: who you work with",
    AdjustmentKind.COGNITIVE: "Cognitive: how you see your work",
    AdjustmentKind.RESOURCE: "Resource: what you draw on",
}


_DICT_ATTRIBUTES = frozenset(dir(dict))


class RowsEnvironment(Environment):
    """Jinja2's environment, with `row.title` on a plain dict (every read row is one)
    looked up as the key it is, without first failing to find it as an attribute:
    Jinja tries `getattr` before the item, and the AttributeError raised and caught
    for each of a page's thousand or so lookups was a tenth of its rendering. The
    same answer as Jinja's in every case: a name a dict has as an attribute (`items`,
    `get`...) still goes Jinja's way, and a missing key is undefined as before."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError, AttributeError):  # as Jinja catches them
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def templates(assets: Assets) -> Environment:
    """Jinja2 with autoescaping everywhere (every value shown may be someone's text)."""
    env = RowsEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the code (a new release restarts the process): never
        # stat each template file (and every one it extends) on every page.
        auto_reload=False,
    )
    # Every global is installed here, once: what a template can call does not depend
    # on which routes were built.
    env.globals.update(
        static=assets.url,
        sees_all=sees_all,  # which oversight links a page shows (the pages decide)
        drawn_sketch=drawn_sketch,  # an agreement row's crafting sketch, drawn
        # A select's options, made in Python (a receiver list has hundreds).
        people_choices=people_choices,
        option_tags=option_tags,
        receivers_of=receivers_of,  # as kept (api.web.manager), or from the rows
        # The choices of the forms, from the domain's enums.
        adjustment_kinds=[(k.value, ADJUSTMENT_KINDS[k]) for k in AdjustmentKind],
        artifact_kinds=[(k.value, k.value.capitalize()) for k in ArtifactKind],
    )
    return env


@dataclass
class Site:
    ports: Ports
    secret: str
    public_url: str
    idle: timedelta
    assets: Assets
    limiter: RateLimiter  # shared with GraphQL and SCIM: one budget per person
    # Web sign-in with the identity provider (api.web.oidc), when configured: its name
    # for the sign-in page, and where signing out continues (its end-session page).
    provider_name: str | None = None
    provider_logout: Callable[[], Awaitable[str | None]] | None = None
    email_sign_in: bool = False  # "e-mail me a sign-in link" on /signin
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = templates(self.assets)

    async def session(self, request: Request) -> Session | None:
        """The request's session: a valid cookie, not idle too long, not signed out.
        Kept on the request, to be re-issued with the response (its idle clock)."""
        found = await self.session_reading(request, lambda _session: None)
        return None if found is None else found[0]

    async def session_reading(
        self, request: Request, page: Callable[[Session], PageRead[T] | None]
    ) -> tuple[Session, T | None] | None:
        """`session`, and the page's own read (`page` makes it for the session; None:
        nothing to read) run in the header's transaction: one pool checkout, BEGIN,
        COMMIT and live-generation read, and one trip off the event loop, per page
        instead of two of each. Routed as the header is (a replica in rotation reads
        both). Not run for a signed-out session."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        now = datetime.now(UTC)
        try:
            session = read_session(self.secret, value, now, self.idle)
        except InvalidTokenError:
            return None
        # Counted before any read (a signed cookie names its person even once signed out).
        self.throttle(session.actor.id)
        found = await asyncio.to_thread(self._unless_signed_out, session, page(session))
        if found is None:
            return None  # signed out
        header, request.state.held, read = found
        request.state.viewer_name, request.state.waiting, request.state.unread, chosen = header
        request.state.zone = zone_of(chosen, request.cookies.get(TZ_COOKIE))
        request.state.zone_chosen = chosen is not None
        if now - session.seen_at >= REFRESH_AFTER:
            request.state.refreshed = session.seen(now)
        return session, read

    def _unless_signed_out(
        self, session: Session, page: PageRead[T] | None
    ) -> tuple[tuple[str | None, int | None, int, str | None], int | None, T | None] | None:
        """One trip off the event loop, and one transaction (`Sessions.check`), for what
        every page's session needs: whether it was signed out, else what its header shows
        (the directory's name, not an id, "[erased]" after erasure; how much awaits the
        person in their inbox; their unseen notifications; the time zone they chose; for
        HR, how many deactivations are held for their decision); and `page`'s answer."""
        header = header_reads(session)

        def reads(conn: Connection, rm: ReadModel) -> tuple[Header, T | None]:
            return header(conn, rm), None if page is None else page(conn, rm)

        found = self.ports.sessions.check(session.session_id, session.actor.id, reads)
        if found is None:
            return None
        facts, ((name, waiting), read) = found
        # The guard's stream is cached and fast-forwarded, not replayed: a cheap read.
        held = len(self.ports.commands.held_deactivations()) if session.actor.has(Role.HR) else None
        return (name, waiting, facts.unread, facts.time_zone), held, read

    def name_of(self, person_id: str) -> str | None:
        """The person's display name in the directory (None: not in it); blocking."""

        def read(conn: Connection, rm: ReadModel) -> str | None:
            person = read_side.people_by_id(conn, rm, [person_id]).get(person_id)
            return None if person is None else str(person["display_name"])

        return self.ports.reads.run(read)

    def throttle(self, caller: str) -> None:
        """Count one request of the caller; over the limit, a 429 page with
        Retry-After (the app's HTTP error handler renders it)."""
        wait = self.limiter.retry_after(caller)
        if wait:
            raise HTTPException(429, headers={"Retry-After": str(wait)})

    def throttle_address(self, request: Request) -> None:
        """Before anyone is signed in (sign-in posts, the provider's redirects back):
        the budget is the client address's."""
        self.throttle(f"web-sign-in:{request.client.host if request.client else '?'}")

    def secure(self, request: Request) -> bool:
        return request.url.scheme == "https" or self.public_url.startswith("https://")

    def set_cookie(self, request: Request, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            cookie_value(self.secret, session),
            max_age=max(0, int((session.expires_at - datetime.now(UTC)).total_seconds())),
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure(request),
        )

    def clear_cookie(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure(request)
        )

    def render(
        self,
        request: Request,
        template: str,
        session: Session | None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        """A page; a signed-in page gets the CSRF token and a fresh idempotency key
        (one per rendering: a form submitted twice records once), and every page the
        person's time zone."""
        zone = getattr(request.state, "zone", None) or zone_of(None, request.cookies.get(TZ_COOKIE))
        page = self.env.get_template(template).render(
            session=session,
            csrf_token=csrf.token_for(self.secret, session.session_id) if session else None,
            idempotency_key=secrets.token_urlsafe(18),
            viewer_name=getattr(request.state, "viewer_name", None)
            or (roles_phrase(session.actor.roles) if session else None),
            nav=[]
            if session is None
            else links(
                session.actor,
                getattr(request.state, "viewer_name", None) is not None,
                getattr(request.state, "waiting", None),
                getattr(request.state, "unread", None),
                getattr(request.state, "held", None),
            ),
            here=request.url.path if status < 400 else None,  # the nav's current page
            counted=COUNTED,
            zone=zone,
            # A recorded moment in the person's zone, named: "2026-11-24 14:05 CET".
            when=partial(local, zone=zone),
            **values,
        )
        response = HTMLResponse(page, status)
        self.keep_fresh(request, response)
        return response

    def keep_fresh(self, request: Request, response: Response) -> None:
        refreshed = getattr(request.state, "refreshed", None)
        if refreshed is not None:
            self.set_cookie(request, response, refreshed)

    def command_request(self, session: Session) -> CommandRequest:
        return CommandRequest(session.actor, logs.correlation_id.get() or "web")

    def csrf_ok(self, request: Request, session: Session, form_token: str | None) -> bool:
        """The token (form field, or htmx's header), from our own site."""
        presented = form_token or request.headers.get(csrf.HEADER)
        return csrf.same_site(request.headers, request.url.scheme) and csrf.valid(
            self.secret, session.session_id, presented
        )

    def forbidden(self, request: Request, session: Session | None) -> HTMLResponse:
        return self.render(
            request,
            "error.html",
            session,
            403,
            title="This form has expired",
            message="The page you sent this from is too old or was not ours. Reload the "
            "page and try again.",
        )

    def incomplete_form(self, request: Request, session: Session | None) -> HTMLResponse:
        """A form sent without the idempotency key its page made."""
        return self.render(
            request,
            "error.html",
            session,
            400,
            title="This form is incomplete",
            message="Reload the page and submit the form again.",
        )

    def not_found(self, request: Request, session: Session | None) -> HTMLResponse:
        return self.render(
            request,
            "error.html",
            session,
            404,
            title="Not found",
            message="There is nothing here that you can see.",
        )

    def keys_unavailable(self, request: Request, session: Session | None) -> HTMLResponse:
        """A command that needs the key store (sealing personal text) while it is away."""
        return self.render(
            request,
            "error.html",
            session,
            503,
            title="Try again shortly",
            message="The service cannot reach its key store right now.",
        )


def header_reads(session: Session) -> Callable[[Connection, ReadModel], Header]:
    """The header's read-model query: the person's display name and, for whoever has an
    inbox, how many proposals and reviews await them there."""
    actor = session.actor
    scope = scope_of(session)
    manager_id = None if actor.has(Role.HR) else actor.id
    due = datetime.now(UTC).date() + REVIEW_HORIZON

    def read(conn: Connection, rm: ReadModel) -> Header:
        # Only the name: every sealed value read (an e-mail address...) would be opened.
        person = read_side.people_by_id(conn, rm, [actor.id], read_side.NAMED).get(actor.id)
        name = None if person is None else str(person["display_name"])
        if not has_inbox(actor):
            return name, None
        return name, read_side.waiting(conn, rm, scope, manager_id, due, COUNTED)

    return read


def scope_of(session: Session) -> read_side.ReadScope:
    """What the person may read, as GraphQL computes it (domain.access)."""
    actor = session.actor
    return read_side.ReadScope(actor.id, sees_all(actor), actor.has(Role.MANAGER))


def to_sign_in() -> RedirectResponse:
    return RedirectResponse("/signin", 303)


class HasSite(Protocol):
    """Route builders whose pages are for signed-in people."""

    site: Site


Pages = TypeVar("Pages", bound=HasSite)


def signed_in(
    page: Callable[[Pages, Request, Session], Awaitable[Response]],
) -> Callable[[Pages, Request], Awaitable[Response]]:
    """The one check every signed-in page starts with: the request's session (valid,
    not idle too long, not signed out) handed to the page; without one, the sign-in
    page. A route takes the decorated method as it takes any handler."""

    @functools.wraps(page)
    async def handler(pages: Pages, request: Request) -> Response:
        session = await pages.site.session(request)
        if session is None:
            return to_sign_in()
        return await page(pages, request, session)

    return handler
