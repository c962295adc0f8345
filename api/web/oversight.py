"""The routes of the history, integrity, audit-log and directory pages (auditors, HR,
and everyone who may read an agreement, for its timeline)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.web.audit_log import AuditLogPages
from api.web.deactivations import DeactivationPages
from api.web.directory import DirectoryPages
from api.web.history import HistoryPages
from api.web.person_page import PersonPages
from api.web.site import Site
from api.web.verification import VerificationPages

Endpoint = Callable[[Request], Awaitable[Response]]


def oversight_routes(site: Site, guarded: Callable[[Endpoint], Endpoint]) -> list[Route]:
    """The routes, each `guarded` (an unexpected failure is a plain page)."""
    history, integrity = HistoryPages(site), VerificationPages(site)
    audit, directory = AuditLogPages(site), DirectoryPages(site)
    return [
        Route("/agreements", guarded(directory.agreements)),
        Route("/people", guarded(directory.people)),
        *PersonPages(site).routes(guarded),
        *DeactivationPages(site).routes(guarded),
        Route("/audit", guarded(audit.search)),
        Route("/agreements/{agreement_id}/timeline", guarded(history.timeline)),
        Route("/agreements/{agreement_id}/changes", guarded(history.what_changed)),
        Route("/agreements/{agreement_id}/as-of", guarded(history.as_of)),
        Route("/agreements/{agreement_id}/integrity", guarded(integrity.badge)),
        Route("/agreements/{agreement_id}/export", guarded(integrity.export)),
    ]
