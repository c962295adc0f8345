"""The security headers of every web response: a strict Content-Security-Policy (our
own scripts and styles only, nothing inline), no framing, no sniffing, and no Referer
to other sites (a sign-in link holds its token in the path). Not `no-referrer`: with it
browsers send `Origin: null` on our own form posts, which the CSRF check refuses."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """Plain ASGI (like api.http.middleware): adds the headers as the response starts."""

    def __init__(self, app: ASGIApp, form_targets: tuple[str, ...] = ()) -> None:
        self.app = app
        # Origins our forms may lead to: signing out redirects to the identity provider's
        # end-session page, and browsers hold form submissions' redirects to form-action.
        self.headers = SECURITY_HEADERS | {
            "Content-Security-Policy": CONTENT_SECURITY_POLICY.replace(
                "form-action 'self'", " ".join(("form-action 'self'", *form_targets))
            )
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if "no-store" not in headers.get("cache-control", "") and not scope[
                    "path"
                ].startswith("/static/"):
                    headers["Cache-Control"] = "no-store"  # pages hold personal data
            await send(message)

        await self.app(scope, receive, with_headers)
