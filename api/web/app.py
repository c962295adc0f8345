"""The web app at /: server-rendered pages on the same ports and rules as GraphQL."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.http.identity import WebClient
from api.http.middleware import BodyRefusedError
from api.http.people_lookup import PeopleByEmail
from api.http.ratelimit import RateLimiter
from api.ports import Ports
from api.web import signin
from api.web.agreements import AgreementPages
from api.web.assets import Assets
from api.web.dossier import DossierPages
from api.web.earlier import EarlierPages
from api.web.email_signin import EmailSignIn
from api.web.employee import employee_routes
from api.web.headers import SecurityHeaders
from api.web.insights import InsightsPage
from api.web.manager import ManagerPages, agreement_section
from api.web.notifications import NotificationPages
from api.web.oidc import ProviderSignIn, origin
from api.web.oversight import oversight_routes
from api.web.reports import ReportPages
from api.web.site import Site
from api.web.sketch_pages import sketch_routes
from api.web.team import TeamPages

log = logging.getLogger("crafting.web")


def create_web_app(
    ports: Ports,
    secret: str,
    public_url: str,
    idle_minutes: int,
    limiter: RateLimiter,
    provider: WebClient | None = None,
    email_sign_in: bool | None = None,
) -> Starlette:
    site = Site(
        ports, secret, public_url.rstrip("/"), timedelta(minutes=idle_minutes), Assets(), limiter
    )
    # Sign-in by e-mail: on unless the company's identity provider signs people in.
    site.email_sign_in = provider is None if email_sign_in is None else email_sign_in
    pages = AgreementPages(site, [agreement_section])
    team = TeamPages(site)
    sign_in_routes: list[Route] = []
    form_targets: tuple[str, ...] = ()
    if provider is not None:
        provider_sign_in = ProviderSignIn(site, provider)
        site.provider_name = provider.provider_name
        site.provider_logout = provider_sign_in.logout_url
        form_targets = (origin(provider.tokens.issuer),)

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint whose unexpected failure is a plain page (Starlette's own
        handler for Exception re-raises into the outer middleware after answering)."""

        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except (HTTPException, BodyRefusedError):
                # e.g. a malformed form body: http_error answers it (400); a body too
                # large or too slow: the request middleware answers it (413, 408)
                raise
            except Exception:
                # Logged with its trace for operators; the page shows nothing of it.
                log.exception("web request failed")
                return site.render(
                    request,
                    "error.html",
                    None,
                    500,
                    title="Something went wrong",
                    message="The service could not show this page. Try again shortly.",
                )

        return endpoint

    if provider is not None:
        sign_in_routes = [
            Route("/oidc/login", guarded(provider_sign_in.login)),
            Route("/oidc/callback", guarded(provider_sign_in.callback)),
        ]

    email_routes: list[Route] = []
    if site.email_sign_in:
        by_email = EmailSignIn(site, PeopleByEmail(ports.reads))
        email_routes = [Route("/signin/email", guarded(by_email.request_link), methods=["POST"])]

    def bound(
        handler: Callable[[Site, Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        return guarded(partial(handler, site))

    async def body_refused(request: Request, error: Exception) -> Response:
        """A form too large or too slow to arrive (the request middleware's limits):
        the page says so; the connection is closed (the body was not read whole)."""
        status = error.status if isinstance(error, BodyRefusedError) else 400
        large = status == 413
        page = site.render(
            request,
            "error.html",
            None,
            status,
            title="This form was too large" if large else "This form took too long to arrive",
            message="Shorten what you wrote and send it again."
            if large
            else "Check your connection and send it again.",
        )
        page.headers["Connection"] = "close"
        return page

    async def http_error(request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, HTTPException) else 500
        if status == 404:
            return site.not_found(request, None)
        if status == 429:
            busy = site.render(
                request,
                "error.html",
                None,
                429,
                title="Too many requests",
                message="Wait a moment before trying again.",
            )
            busy.headers.update(getattr(error, "headers", None) or {})
            return busy
        return site.render(
            request,
            "error.html",
            None,
            status,
            title="This did not work",
            message="The request could not be handled.",
        )

    return Starlette(
        routes=[
            *employee_routes(pages, guarded),
            *sketch_routes(pages, guarded),
            Route("/", guarded(pages.mine)),
            Route("/agreements/{agreement_id}", guarded(pages.show)),
            Route("/agreements/{agreement_id}/withdraw", guarded(pages.withdraw), methods=["POST"]),
            Route(
                "/agreements/{agreement_id}/dossier",
                guarded(DossierPages(site).download),
                methods=["POST"],
            ),
            Route(
                "/people/{person_id}/dossier",
                guarded(DossierPages(site).download_person),
                methods=["POST"],
            ),
            *ManagerPages(pages).routes(guarded),
            Route("/agreements/{agreement_id}/earlier/{list}", guarded(EarlierPages(pages).show)),
            Route("/inbox", guarded(team.inbox)),
            Route("/team", guarded(team.team)),
            Route("/insights", guarded(InsightsPage(site).show)),
            Route("/reports", guarded(ReportPages(site).reports)),
            Route("/signin", bound(signin.help_page)),
            Route("/login/{token}", bound(signin.confirm)),
            Route("/login/{token}", bound(signin.sign_in), methods=["POST"]),
            Route("/logout", bound(signin.sign_out), methods=["POST"]),
            Route("/static/{name}", site.assets.response),
            Route("/favicon.ico", site.assets.favicon),
            *sign_in_routes,
            *oversight_routes(site, guarded),
            *NotificationPages(site).routes(guarded),
            *email_routes,
        ],
        middleware=[Middleware(SecurityHeaders, form_targets=form_targets)],
        exception_handlers={HTTPException: http_error, BodyRefusedError: body_refused},
    )
