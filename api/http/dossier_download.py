"""The promotion dossier's download for API callers: `GET /dossiers/{agreementId}` (one
agreement) or `GET /dossiers/people/{personId}` (all of a person's the caller may see)
with the same bearer token as GraphQL (whose `dossier` and `personDossier` fields give
these addresses). Each download issues a dossier to the caller, recorded in the audit
log (once per agreement)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import quote
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.http.auth import bearer_token
from api.http.authenticator import REFUSALS, Authenticator, refused
from api.http.ratelimit import RateLimiter
from api.ports import Dossier, PersonDossier, Ports
from domain.access import NEEDED, Party
from domain.application import Request as CommandRequest
from domain.errors import DomainError, Forbidden, NotYetCheckpointed
from domain.sealing import KeysUnavailable

PATH = "/dossiers/{agreement_id}"
PERSON_PATH = "/dossiers/people/{person_id}"
RETRY_CHECKPOINT_SECONDS = 10


def dossier_path(agreement_id: UUID) -> str:
    """Where an agreement's dossier is downloaded (relative to the service's address)."""
    return PATH.format(agreement_id=agreement_id)


def person_dossier_path(person_id: str) -> str:
    """Where the dossier of all a person's agreements is downloaded."""
    return PERSON_PATH.format(person_id=quote(person_id, safe=""))


class DossierDownload:
    def __init__(self, ports: Ports, authenticator: Authenticator, limiter: RateLimiter) -> None:
        self.ports, self.authenticator, self.limiter = ports, authenticator, limiter

    async def download(self, request: Request) -> Response:
        """The PDF, or a JSON error: 401 without a valid token, 403 for whoever may not
        have it (whether or not it exists), 409 while no checkpoint covers it yet."""
        try:
            aid = UUID(request.path_params["agreement_id"])
        except ValueError:
            aid = None

        def issue(req: CommandRequest) -> Dossier | None:
            return None if aid is None else self.ports.dossiers.issue(req, aid)

        return await self._download(request, issue)

    async def download_person(self, request: Request) -> Response:
        """The dossier of all the person's agreements the caller may see, as `download`
        answers (403 when there is none the caller may see)."""
        person_id = str(request.path_params["person_id"])

        def issue(req: CommandRequest) -> PersonDossier:
            return self.ports.dossiers.issue_person(req, person_id)

        return await self._download(request, issue)

    async def _download(
        self,
        request: Request,
        issue: Callable[[CommandRequest], Dossier | PersonDossier | None],
    ) -> Response:
        try:
            actor = await self.authenticator.actor_async(bearer_token(request.headers))
        except REFUSALS as error:
            return refused(error)
        if wait := self.limiter.retry_after(actor.id):
            too_many = {"detail": f"Too many requests from this caller; retry in {wait} s."}
            return JSONResponse(too_many, 429, headers={"Retry-After": str(wait)})
        correlation = str(request.scope.get("state", {}).get("correlation_id", ""))
        try:
            dossier = await asyncio.to_thread(
                issue, CommandRequest(actor, correlation or "dossier")
            )
        except Forbidden:
            return JSONResponse({"detail": NEEDED[Party.CONTRIBUTOR], "code": "FORBIDDEN"}, 403)
        except NotYetCheckpointed as error:
            retry = {"Retry-After": str(RETRY_CHECKPOINT_SECONDS)}
            return JSONResponse({"detail": error.message, "code": error.code}, 409, headers=retry)
        except DomainError as error:
            return JSONResponse({"detail": error.message, "code": error.code}, 404)
        except KeysUnavailable:
            return JSONResponse({"detail": "The key store cannot be reached."}, 503)
        if dossier is None:
            return JSONResponse({"detail": "Not an agreement id.", "code": "FORBIDDEN"}, 403)
        return Response(
            dossier.pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{dossier.filename}"',
                "Cache-Control": "no-store",
            },
        )
