"""An agreement's integrity for those who read everything (HR, auditors), as GraphQL's
`verifyIntegrity` has it: the badge (green only when every event is proven part of the
latest signed checkpoint; "not yet verified" for events newer than it; red for a break;
the signing key's fingerprint) and the download of its verifiable export, the file
`python domain/integrity.py` checks on its own."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import UTC, datetime
from uuid import UUID

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from api import read_side
from api.integrity import checkpoint_check, key_fingerprint
from api.web.lookups import agreement_viewer, partial
from api.web.site import Site, scope_of
from domain.access import sees_all


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
        found = await asyncio.to_thread(audit.check_agreement, aid)
        if found.events == 0:
            return self.site.not_found(request, session)
        row = await asyncio.to_thread(
            self.site.ports.reads.run,
            lambda conn, rm: read_side.agreements_by_id(conn, rm, scope, [key]).get(key),
        )
        trusted = audit.trusted_public_keys()
        raised = [a for a in await asyncio.to_thread(audit.open_alarms) if _integrity(a.kind)]
        mine = [a for a in raised if key in a.subject or key in a.detail]
        latest = found.checkpoint
        checkpoint = None if latest is None else checkpoint_check(latest, trusted)
        return self.site.render(
            request,
            "integrity_fragment.html" if partial(request) else "integrity.html",
            session,
            agreement_id=key,
            title=None if row is None else row["title"],
            found=found,
            verdict=found.status.value,
            checkpoint=checkpoint,
            fingerprint=None if checkpoint is None else key_fingerprint(checkpoint.public_key),
            signed_at=None if checkpoint is None else _instant(checkpoint.recorded_at),
            alarms=mine,
            other_alarms=len(raised) - len(mine),
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


def _integrity(kind: str) -> bool:
    """Alarms about stored data (events, snapshots, keys, read models), not operations."""
    return kind.split(".", 1)[0] in {"integrity", "event", "key", "read_model"}


def _instant(iso: str) -> str:
    """A checkpoint's time as people read it (to the minute, UTC)."""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso
