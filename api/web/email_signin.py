"""Sign-in by e-mail on /signin: "e-mail me a sign-in link". The answer is the same
page, in the same time, whether or not the address is in the directory: the request
only checks the form and the limits, then hands the address to a background thread
that looks it up and mails the usual single-use, ten-minute link (api.web.sessions).
Limits: a few requests per address and per client address every quarter hour."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from api.http.claim_mapping import Ambiguous
from api.http.people_lookup import PeopleByEmail
from api.http.ratelimit import RateLimiter
from api.web import csrf
from api.web.sessions import mint_link
from api.web.site import Site
from domain.values import Role

log = logging.getLogger("crafting.web")
WINDOW_SECONDS = 15 * 60
PER_ADDRESS = 3  # sign-in e-mails per address per window
PER_CLIENT = 10  # requests per client address per window
MAX_ADDRESS_LENGTH = 254


class EmailSignIn:
    def __init__(self, site: Site, people: PeopleByEmail) -> None:
        self.site = site
        self.people = people
        self.per_address = RateLimiter(PER_ADDRESS / WINDOW_SECONDS, PER_ADDRESS)
        self.per_client = RateLimiter(PER_CLIENT / WINDOW_SECONDS, PER_CLIENT)
        self.mailer = ThreadPoolExecutor(2, thread_name_prefix="sign-in-mail")

    async def request_link(self, request: Request) -> Response:
        """Take the address; answer the same whatever it is (see the module)."""
        if not csrf.same_site(request.headers, request.url.scheme):
            return self.site.forbidden(request, None)
        form = await request.form()
        given = form.get("email")
        address = given.strip() if isinstance(given, str) else ""
        if not address or len(address) > MAX_ADDRESS_LENGTH or "@" not in address[1:-1]:
            return self.site.render(
                request,
                "signin.html",
                None,
                400,
                provider=self.site.provider_name,
                email_sign_in=True,
                email=address[:MAX_ADDRESS_LENGTH],
                email_error="Enter your work e-mail address, like name@example.com.",
            )
        client = request.client.host if request.client else "?"
        wait = max(
            self.per_client.retry_after(f"client:{client}"),
            self.per_address.retry_after(f"address:{address.lower()}"),
        )
        if wait:
            minutes = max(1, round(wait / 60))
            page = self.site.render(
                request,
                "error.html",
                None,
                429,
                title="Too many sign-in e-mails",
                message=f"Sign-in links were asked for too often. Try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}.",
            )
            page.headers["Retry-After"] = str(wait)
            return page
        self.mailer.submit(self._send, address)
        return self.site.render(request, "signin_sent.html", None)

    def _send(self, address: str) -> None:
        """Look the address up and mail a link (in the background; never raises)."""
        try:
            person = self.people(address)
            if person is None or isinstance(person, Ambiguous):
                return  # nobody, or two people share it: no link (the page said the same)
            secret, base = self.site.secret, self.site.public_url

            def link_for(roles: list[Role]) -> str:
                return f"{base}/login/{mint_link(secret, person, roles, datetime.now(UTC))}"

            self.site.ports.notices.mail_sign_in_link(person, link_for)
        except Exception:  # a background task: logged (no address), the page already said
            log.exception("sending a sign-in e-mail failed")
