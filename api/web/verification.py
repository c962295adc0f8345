"""An agreement's integrity for those who read everything (HR, auditors), as GraphQL's
`verifyIntegrity` has it: the badge (its hash chain, whether the latest signed
checkpoint covers its last event, the signing key's fingerprint) and the download of
its verifiable export, the file `python domain/integrity.py` checks on its own."""

from __future__ import annotations

import asyncio
import os
import tempfile
from uuid import UUID

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from api.integrity import checkpoint_check, key_fingerprint
from api.web.lookups import agreement_viewer, partial
from api.web.site import Site, scope_of
from domain.access import sees_all
from projections import queries as q


class VerificationPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def badge(self, request: Request) -> Response:
        """The integrity badge: a fragment for htmx (the agreement page loads it), else
        a page. Checking reads the agreement's whole stream, so it is asked for, not
        computed with every agreement page."""
        seen = await agreement_viewer(self.site, request)
        if isinstance(seen, Response):
            return seen
        session, aid = seen
        if not sees_all(session.actor):
            return self.site.not_found(request, session)
        audit, scope, key = self.site.ports.audit, scope_of(session), str(aid)
        verifier, latest = await asyncio.to_thread(audit.check_agreement, aid)
        if verifier.events == 0:
            return self.site.not_found(request, session)
        row = await asyncio.to_thread(
            self.site.ports.reads.run,
            lambda conn, rm: q.agreements_by_id(conn, rm, scope, [key]).get(key),
        )
        trusted = audit.trusted_public_keys()
        checkpoint = None if latest is None else checkpoint_check(latest, trusted)
        # Covered when the read model has every event of the stream (its version) and
        # the last one's position is inside the signed prefix of the log.
        covered = (
            checkpoint is not None
            and checkpoint.signature_valid
            and row is not None
            and int(row["version"]) == verifier.events
            and int(row["position"]) <= checkpoint.position
        )
        return self.site.render(
            request,
            "integrity_fragment.html" if partial(request) else "integrity.html",
            session,
            agreement_id=key,
            title=None if row is None else row["title"],
            verifier=verifier,
            checkpoint=checkpoint,
            covered=covered,
            fingerprint=None if checkpoint is None else key_fingerprint(checkpoint.public_key),
        )

    async def export(self, request: Request) -> Response:
        """The agreement's events and the checkpoints as JSON Lines, to download."""
        seen = await agreement_viewer(self.site, request)
        if isinstance(seen, Response):
            return seen
        session, aid = seen
        if not sees_all(session.actor):
            return self.site.not_found(request, session)
        path = await asyncio.to_thread(self._write, aid)
        if path is None:
            return self.site.not_found(request, session)
        response = FileResponse(
            path,
            media_type="application/x-ndjson",
            filename=f"agreement-{aid}.jsonl",
            background=BackgroundTask(os.unlink, path),
        )
        self.site.keep_fresh(request, response)
        return response

    def _write(self, aid: UUID) -> str | None:
        """The export in a temporary file (streamed there: constant memory); None when
        the agreement has no events."""
        fd, path = tempfile.mkstemp(prefix="crafting-export-", suffix=".jsonl")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                written = self.site.ports.audit.export_agreement(aid, out)
        except BaseException:
            os.unlink(path)
            raise
        if written == 0:
            os.unlink(path)
            return None
        return path
