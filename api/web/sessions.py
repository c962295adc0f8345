"""Web sign-in: single-use sign-in links and the session cookie, both HS256 tokens
signed with the service's JWT secret. Each names its own audience, so neither is an
API bearer token (which names none) nor the other."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from api.http.auth import ALGORITHM, InvalidTokenError, actor_of, decoded
from domain.access import Actor
from domain.values import Role

LOGIN_AUDIENCE = "crafting:web-login"
SESSION_AUDIENCE = "crafting:web-session"
LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)  # absolute, whatever the activity
COOKIE = "crafting_session"
# The cookie is re-issued at most this often, so its idle clock moves without a new
# Set-Cookie on every request.
REFRESH_AFTER = timedelta(minutes=1)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True)
class SignInLink:
    """What a valid sign-in link grants, and the id that makes it single-use."""

    actor: Actor
    token_id: str
    expires_at: datetime


def mint_link(secret: str, sub: str, roles: list[Role], now: datetime | None = None) -> str:
    """A sign-in token for `sub` with `roles`, valid for ten minutes, usable once."""
    now = now or datetime.now(UTC)
    claims = {
        "sub": sub,
        "roles": [r.value for r in roles],
        "aud": LOGIN_AUDIENCE,
        "iat": now,
        "exp": now + LINK_LIFETIME,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_link(secret: str, token: str) -> SignInLink:
    """The link's grant (InvalidTokenError: forged, expired, or not a sign-in link)."""
    claims = decoded(secret, token, LOGIN_AUDIENCE)
    token_id = claims.get("jti")
    if not isinstance(token_id, str) or not 0 < len(token_id) <= 64:
        raise InvalidTokenError("a sign-in link needs its id")
    return SignInLink(actor_of(claims), token_id, datetime.fromtimestamp(claims["exp"], UTC))


@dataclass(frozen=True)
class Session:
    """A signed-in browser: only who it is and their roles, plus its clocks."""

    actor: Actor
    session_id: str
    started_at: datetime
    seen_at: datetime
    # Signed in through the identity provider: signing out also ends its session there.
    via_provider: bool = False

    @property
    def expires_at(self) -> datetime:
        return self.started_at + SESSION_LIFETIME

    def seen(self, now: datetime) -> Session:
        return Session(self.actor, self.session_id, self.started_at, now, self.via_provider)


def new_session(actor: Actor, now: datetime, *, via_provider: bool = False) -> Session:
    return Session(actor, secrets.token_urlsafe(16), now, now, via_provider)


def cookie_value(secret: str, session: Session) -> str:
    """The session as its signed cookie value."""
    claims = {
        "sub": session.actor.id,
        "roles": sorted(r.value for r in session.actor.roles),
        "aud": SESSION_AUDIENCE,
        "jti": session.session_id,
        "iat": _epoch(session.started_at),
        "seen": _epoch(session.seen_at),
        "exp": _epoch(session.expires_at),
    } | ({"idp": 1} if session.via_provider else {})
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_session(secret: str, value: str, now: datetime, idle: timedelta) -> Session:
    """The session a cookie holds (InvalidTokenError: forged, past its absolute
    lifetime, or idle longer than `idle`)."""
    claims = decoded(secret, value, SESSION_AUDIENCE)
    session_id, started, seen = claims.get("jti"), claims.get("iat"), claims.get("seen")
    if not isinstance(session_id, str) or not isinstance(started, int):
        raise InvalidTokenError("not a session")
    if not isinstance(seen, int):
        raise InvalidTokenError("not a session")
    seen_at = datetime.fromtimestamp(seen, UTC)
    if now - seen_at > idle:
        raise InvalidTokenError("the session was idle too long")
    started_at = datetime.fromtimestamp(started, UTC)
    return Session(actor_of(claims), session_id, started_at, seen_at, claims.get("idp") == 1)
