"""What the auditors' and HR's pages share: the signed-in viewer, the agreement id in
the path, the keyset cursor in the query, and the 400 page for a bad query value."""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.http.numbers import INT32_MAX, INT64_MAX, whole_number
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


def whole(raw: str | None, default: int = 0, *, most: int = INT64_MAX) -> int | None:
    """A whole number from the query (a log position); None when malformed."""
    if raw is None or raw == "":
        return default
    return whole_number(raw, most=most)


def version_param(raw: str | None, default: int = 0) -> int | None:
    """A version from the query (versions are 32-bit); None when malformed."""
    return whole(raw, default, most=INT32_MAX)


def bad_query(
    site: Site, request: Request, session: Session, message: str, agreement_id: object = None
) -> HTMLResponse:
    """The 400 page; about an agreement's history, it leads back to its timeline."""
    back = (
        None
        if agreement_id is None
        else (f"/agreements/{agreement_id}/timeline", "Back to the timeline")
    )
    return site.render(
        request,
        "error.html",
        session,
        400,
        title="This did not work",
        message=message,
        back=back,
    )


def partial(request: Request) -> bool:
    """Whether htmx asks for a fragment (else the whole page)."""
    return request.headers.get("HX-Request") == "true"
