"""Driving the web app over HTTP in tests: signing in with a link, reading forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from api.web.sessions import COOKIE, mint_link
from domain.values import Role

_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def browser(client: TestClient, https: bool = False) -> TestClient:
    """Another browser on the same running app (its own cookie jar)."""
    base = "https://testserver" if https else "http://testserver"
    return TestClient(client.app, base_url=base, follow_redirects=False)


def sign_in(
    client: TestClient, secret: str, sub: str, *roles: Role, now: datetime | None = None
) -> TestClient:
    """A browser signed in as `sub` through a fresh sign-in link."""
    signed = browser(client)
    link = mint_link(secret, sub, list(roles) or [Role.EMPLOYEE], now or datetime.now(UTC))
    response = signed.post(f"/login/{link}")
    assert response.status_code == 303, response.text
    assert COOKIE in signed.cookies
    return signed


def hidden_fields(html: str, action: str) -> dict[str, Any]:
    """The hidden fields of the form posting to `action`."""
    start = html.index(f'action="{action}"')
    form = html[start : html.index("</form>", start)]
    return dict(_HIDDEN.findall(form))


CONFIRMED = {"confirmed": "yes"}
"""What a form that cannot be undone carries once the person confirmed (its dialog, or
the page that asks when script does not run)."""
