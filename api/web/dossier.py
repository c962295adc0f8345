"""The promotion dossier's button on the agreement page: a form (POST, CSRF-checked, so
no prefetch or link preview issues one) answered with the PDF to download. Each
download issues a dossier to the person, recorded in the audit log."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from api.web import csrf
from api.web.forms import Submitted, uuid_or_none
from api.web.sessions import Session
from api.web.site import Site, to_sign_in
from domain.errors import DomainError, Forbidden, NotYetCheckpointed
from domain.sealing import KeysUnavailable


class DossierPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def download(self, request: Request) -> Response:
        """The dossier as a PDF attachment, for the employee, their manager or HR; the
        same "not found" as any agreement they may not see for everyone else."""
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        form = Submitted.of(await request.form())
        if not self.site.csrf_ok(request, session, form.get(csrf.FIELD) or None):
            return self.site.forbidden(request, session)
        aid = uuid_or_none(request.path_params["agreement_id"])
        if aid is None:
            return self.site.not_found(request, session)
        asked = self.site.command_request(session)
        try:
            dossier = await asyncio.to_thread(self.site.ports.dossiers.issue, asked, aid)
        except (Forbidden, DomainError) as error:
            if isinstance(error, NotYetCheckpointed):
                return self._not_yet(request, session, error.message)
            return self.site.not_found(request, session)
        except KeysUnavailable:
            return self._not_yet(
                request, session, "The service cannot open its data right now; try again soon."
            )
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
