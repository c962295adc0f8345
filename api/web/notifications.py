"""The person's notifications: the list (what was sent to them, worked out from the
log as they open it), their settings per kind, and the one-click unsubscribe link
(RFC 8058) that works without a session, for its person and kind only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api.ports import KIND_LABELS, Choices, InvalidPreference, Kind, Mode, time_zones
from api.web import csrf
from api.web.sessions import Session
from api.web.site import Site, signed_in
from domain.values import Role

MODE_LABELS = {Mode.IMMEDIATE: "Right away", Mode.DAILY: "In a daily digest", Mode.OFF: "Never"}
Handler = Callable[[Request], Awaitable[Response]]


def _kinds(is_hr: bool) -> list[Kind]:
    return [k for k in Kind if k != Kind.HR_ALERT or is_hr]


class NotificationPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    def routes(self, guarded: Callable[[Handler], Handler]) -> list[Route]:
        return [
            Route("/notifications", guarded(self.listing)),
            Route("/notifications/settings", guarded(self.settings)),
            Route("/notifications/settings", guarded(self.save), methods=["POST"]),
            Route("/notifications/unsubscribe/{token}", guarded(self.unsubscribe_page)),
            Route(
                "/notifications/unsubscribe/{token}", guarded(self.unsubscribe), methods=["POST"]
            ),
        ]

    @signed_in
    async def listing(self, request: Request, session: Session) -> Response:
        """What the person was told, newest first; opening the page marks it seen."""
        notices = self.site.ports.notices
        items = await asyncio.to_thread(notices.feed, session.actor.id)
        await asyncio.to_thread(notices.mark_read, session.actor.id)
        shown = [
            {
                "subject": item.subject,
                "path": item.path,
                "unread": item.unread,
                "at": datetime.fromtimestamp(item.at, UTC),  # shown in the person's zone
            }
            for item in items
        ]
        return self.site.render(request, "notifications.html", session, items=shown)

    @signed_in
    async def settings(self, request: Request, session: Session) -> Response:
        choices = await asyncio.to_thread(self.site.ports.notices.choices, session.actor.id)
        saved = request.query_params.get("saved") == "1"
        return self._settings_page(request, session, choices, saved=saved)

    @signed_in
    async def save(self, request: Request, session: Session) -> Response:
        """Store the settings sent; an impossible choice is said next to its field."""
        form = await request.form()
        token = form.get(csrf.FIELD)
        if not self.site.csrf_ok(request, session, token if isinstance(token, str) else None):
            return self.site.forbidden(request, session)
        current = await asyncio.to_thread(self.site.ports.notices.choices, session.actor.id)
        modes = dict(current.modes)
        for kind in _kinds(session.actor.has(Role.HR)):
            value = form.get(f"mode-{kind.value}")
            if isinstance(value, str) and value in Mode.__members__:
                modes[kind] = Mode(value)
        hour_text, zone = form.get("hour"), form.get("time_zone")
        try:
            hour = int(hour_text) if isinstance(hour_text, str) else -1
        except ValueError:
            hour = -1
        chosen = Choices(modes, hour, zone if isinstance(zone, str) else "")
        try:
            await asyncio.to_thread(self.site.ports.notices.save, session.actor.id, chosen)
        except InvalidPreference as error:
            return self._settings_page(request, session, chosen, error=str(error), status=400)
        return RedirectResponse("/notifications/settings?saved=1", 303)

    def _settings_page(
        self,
        request: Request,
        session: Session,
        choices: Choices,
        *,
        error: str | None = None,
        saved: bool = False,
        status: int = 200,
    ) -> Response:
        is_hr = session.actor.has(Role.HR)
        return self.site.render(
            request,
            "notification_settings.html",
            session,
            status,
            kinds=[
                (k, KIND_LABELS[k], choices.modes.get(k, Mode.IMMEDIATE)) for k in _kinds(is_hr)
            ],
            modes=list(MODE_LABELS.items()),
            hour=choices.hour,
            # Not chosen yet: the zone times are shown in now (the browser's).
            time_zone=choices.time_zone
            if getattr(request.state, "zone_chosen", True)
            else getattr(request.state, "zone", choices.time_zone),
            zones=time_zones(),
            zone_chosen=getattr(request.state, "zone_chosen", True),
            error=error,
            saved=saved,
        )

    async def unsubscribe_page(self, request: Request) -> Response:
        """Asks before stopping (link scanners fetch links; only a POST stops)."""
        found = await asyncio.to_thread(
            self.site.ports.notices.unsubscribe, request.path_params["token"], apply=False
        )
        if found is None:
            return self.site.render(request, "unsubscribe.html", None, 400, invalid=True)
        return self.site.render(
            request, "unsubscribe.html", None, label=KIND_LABELS[found[1]], done=False
        )

    async def unsubscribe(self, request: Request) -> Response:
        """One click, no session: the signed link names the person and the kind."""
        self.site.throttle_address(request)
        found = await asyncio.to_thread(
            self.site.ports.notices.unsubscribe, request.path_params["token"], apply=True
        )
        if found is None:
            return self.site.render(request, "unsubscribe.html", None, 400, invalid=True)
        return self.site.render(
            request, "unsubscribe.html", None, label=KIND_LABELS[found[1]], done=True
        )
