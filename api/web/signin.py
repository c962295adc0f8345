"""Signing in with a single-use link (`crafting login-link`), and signing out.

GET shows a confirmation page and POST uses the link: mail scanners and link previews
fetch links, and must not spend them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.http.auth import InvalidTokenError
from api.web import csrf
from api.web.navigation import landing
from api.web.sessions import SignInLink, new_session, read_link
from api.web.site import Site, to_sign_in
from api.web.words import roles_phrase, roles_words

MAX_TOKEN_LENGTH = 4096


def _link(site: Site, request: Request) -> SignInLink | None:
    token = request.path_params["token"]
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        return read_link(site.secret, token)
    except InvalidTokenError:
        return None


def _ways(site: Site) -> dict[str, object]:
    """How a person may get a new link (the pages say it in their words)."""
    return {"provider": site.provider_name, "email_sign_in": site.email_sign_in}


def _invalid(site: Site, request: Request) -> Response:
    return site.render(request, "link_invalid.html", None, 400, **_ways(site))


def _used(site: Site, request: Request) -> Response:
    return site.render(request, "link_used.html", None, 410, **_ways(site))


async def help_page(site: Site, request: Request) -> Response:
    """How to sign in (where every signed-out request lands)."""
    session = await site.session(request)
    signed_out = request.query_params.get("signed_out") == "1"
    return site.render(
        request,
        "signin.html",
        session,
        signed_out=signed_out,
        provider=site.provider_name,
        email_sign_in=site.email_sign_in,
    )


async def confirm(site: Site, request: Request) -> Response:
    link = _link(site, request)
    if link is None:
        return _invalid(site, request)
    if await asyncio.to_thread(site.ports.single_use.used, link.token_id):
        return _used(site, request)
    # Who the link signs in, by their name in the directory (someone outside it, such as
    # an auditor, by their roles); the id only in the details.
    name = await asyncio.to_thread(site.name_of, link.actor.id)
    return site.render(
        request,
        "link_confirm.html",
        None,
        link=link,
        who=name or roles_phrase(link.actor.roles),
        roles=roles_words(link.actor.roles),
    )


async def sign_in(site: Site, request: Request) -> Response:
    """Spend the link (once, also when two requests race) and start a session."""
    if not csrf.same_site(request.headers, request.url.scheme):
        return site.forbidden(request, None)
    site.throttle_address(request)
    link = _link(site, request)
    if link is None:
        return _invalid(site, request)
    if not await asyncio.to_thread(site.ports.single_use.use, link.token_id, link.expires_at):
        return _used(site, request)
    # Each person lands where their work is (a manager on the inbox, HR and auditors on
    # all agreements).
    response = RedirectResponse(landing(link.actor), 303)
    site.set_cookie(request, response, new_session(link.actor, datetime.now(UTC)))
    return response


async def sign_out(site: Site, request: Request) -> Response:
    """End the session: its id is recorded as used, so a copy of the cookie is dead too."""
    session = await site.session(request)
    if session is None:
        return to_sign_in()
    form = await request.form()
    token = form.get(csrf.FIELD)
    if not site.csrf_ok(request, session, token if isinstance(token, str) else None):
        return site.forbidden(request, session)
    await asyncio.to_thread(site.ports.single_use.use, session.session_id, session.expires_at)
    # Signed in at the provider: end that session too (RP-initiated logout), which
    # comes back to our signed-out page.
    elsewhere = None
    if session.via_provider and site.provider_logout is not None:
        elsewhere = await site.provider_logout()
    response = RedirectResponse(elsewhere or "/signin?signed_out=1", 303)
    site.clear_cookie(request, response)
    return response
