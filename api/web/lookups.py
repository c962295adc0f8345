"""What the auditors' and HR's pages share: the signed-in viewer, the agreement id in
the path, the keyset cursor in the query, and the 400 page for a bad query value."""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.web.forms import uuid_or_none
from api.web.sessions import Session
from api.web.site import Site, to_sign_in

PAGE = 25  # rows a page of these lists shows


async def viewer(site: Site, request: Request) -> Session | Response:
    """The signed-in viewer, else the way to the sign-in page."""
    session = await site.session(request)
    return to_sign_in() if session is None else session


async def agreement_viewer(site: Site, request: Request) -> tuple[Session, UUID] | Response:
    """The signed-in viewer and the agreement in the path (a malformed id: the same 404
    as for any agreement they may not see)."""
    session = await site.session(request)
    if session is None:
        return to_sign_in()
    agreement_id = uuid_or_none(request.path_params["agreement_id"])
    if agreement_id is None:
        return site.not_found(request, session)
    return session, agreement_id


def whole(raw: str | None, default: int = 0) -> int | None:
    """A whole number from the query (a version, a position); None when malformed."""
    if raw is None or raw == "":
        return default
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


def bad_query(site: Site, request: Request, session: Session, message: str) -> HTMLResponse:
    return site.render(
        request, "error.html", session, 400, title="This did not work", message=message
    )


def partial(request: Request) -> bool:
    """Whether htmx asks for a fragment (else the whole page)."""
    return request.headers.get("HX-Request") == "true"
