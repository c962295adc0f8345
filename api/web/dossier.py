"""The promotion dossier's buttons, on the agreement page (that agreement) and on a
person's career page (all their agreements the viewer may see): a form (POST,
CSRF-checked, so no prefetch or link preview issues one) answered with the PDF to
download. Each download issues a dossier to the viewer, recorded in the audit log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from api.ports import Dossier, PersonDossier
from api.web import csrf
from api.web.forms import Submitted, uuid_or_none
from api.web.sessions import Session
from api.web.site import Site, to_sign_in
from domain.application import Request as CommandRequest
from domain.errors import DomainError, Forbidden, NotYetCheckpointed
from domain.sealing import KeysUnavailable
from domain.values import is_person_id


class DossierPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def download(self, request: Request) -> Response:
        """The dossier as a PDF attachment, for the employee, their manager or HR; the
        same "not found" as any agreement they may not see for everyone else."""
        aid = uuid_or_none(request.path_params["agreement_id"])

        def issue(asked: CommandRequest) -> Dossier | None:
            return None if aid is None else self.site.ports.dossiers.issue(asked, aid)

        return await self._download(request, issue)

    async def download_person(self, request: Request) -> Response:
        """The dossier of all the person's agreements the viewer may see, for the
        person, their manager or HR; "not found" for everyone else."""
        person_id = str(request.path_params["person_id"])

        def issue(asked: CommandRequest) -> PersonDossier | None:
            if not is_person_id(person_id):
                return None
            return self.site.ports.dossiers.issue_person(asked, person_id)

        return await self._download(request, issue)

    async def _download(
        self,
        request: Request,
        issue: Callable[[CommandRequest], Dossier | PersonDossier | None],
    ) -> Response:
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        form = Submitted.of(await request.form())
        if not self.site.csrf_ok(request, session, form.get(csrf.FIELD) or None):
            return self.site.forbidden(request, session)
        asked = self.site.command_request(session)
        try:
            dossier = await asyncio.to_thread(issue, asked)
        except (Forbidden, DomainError) as error:
            if isinstance(error, NotYetCheckpointed):
                return self._not_yet(request, session, error.message)
            return self.site.not_found(request, session)
        except KeysUnavailable:
            return self._not_yet(
                request, session, "The service cannot open its data right now; try again soon."
            )
        if dossier is None:
            return self.site.not_found(request, session)
        response = Response(
            dossier.pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{dossier.filename}"',
                "Cache-Control": "no-store",
            },
        )
        self.site.keep_fresh(request, response)
        return response

    def _not_yet(self, request: Request, session: Session, message: str) -> Response:
        return self.site.render(
            request,
            "error.html",
            session,
            409,
            title="The dossier is not ready yet",
            message=message,
        )
