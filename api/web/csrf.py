"""Cross-site request forgery: every unsafe request of a signed-in browser carries a
token only our pages know (a form field, or a header htmx sends), and no unsafe
request may come from another site at all (the sign-in form has no session yet)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_for(secret: str, session_id: str) -> str:
    """The session's token: derived, so nothing is stored, and no use to another session."""
    return hmac.new(secret.encode(), b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def valid(secret: str, session_id: str, presented: str | None) -> bool:
    """Whether `presented` is the session's token (compared as bytes: compare_digest
    refuses str with non-ASCII characters, which anyone may send)."""
    if presented is None:
        return False
    expected = token_for(secret, session_id).encode()
    return hmac.compare_digest(expected, presented.encode("utf-8", "surrogatepass"))


def same_site(headers: Mapping[str, str], scheme: str) -> bool:
    """False when the browser says the request comes from another site: Sec-Fetch-Site
    (modern browsers) or an Origin that is not ours. Clients that send neither (curl,
    tests) pass here and still need the token."""
    fetched_from = headers.get("sec-fetch-site")
    if fetched_from is not None:
        return fetched_from in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return True
    return origin == f"{scheme}://{headers.get('host', '')}"
