"""The person-id rule at every door that names a caller: our HS256 tokens, sign-in
links and sessions, `crafting token` and `crafting login-link`, the integration clients
of the settings, and the Actor itself (the last guard before an event is recorded)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from api.cli import cli
from api.http.auth import ALGORITHM, InvalidTokenError, actor_from_token, mint_token
from api.web.sessions import (
    LOGIN_AUDIENCE,
    SESSION_AUDIENCE,
    mint_link,
    read_link,
    read_session,
)
from domain.access import Actor
from domain.values import Role, is_person_id
from infra.settings import Settings

SECRET = secrets.token_urlsafe(48)
BAD_IDS = [
    "",
    " ",
    "hr\u0000x",
    "hr\u202ex",
    "hr\u2066x",
    "kofi-mens\u0430h",
    "\u212aofi",
    "hr x",
    " hr",
    "hr\n",
    "hr\u00adx",
    "-hr",
    "hr|x",
    "x" * 129,
]
GOOD_IDS = ["hr", "E-1234", "kofi.mensah@example.com", "cli:root", "a+b_c:d", "x" * 128]


def _signed(sub: str, **more: object) -> str:
    now = datetime.now(UTC)
    claims = {"sub": sub, "roles": ["HR"], "iat": now, "exp": now + timedelta(hours=1)}
    return jwt.encode(claims | more, SECRET, algorithm=ALGORITHM)


@pytest.mark.parametrize("bad", BAD_IDS)
def test_no_door_of_ours_accepts_an_id_outside_the_rule(bad: str) -> None:
    with pytest.raises(InvalidTokenError, match="sub must be"):
        actor_from_token(SECRET, _signed(bad))
    with pytest.raises(InvalidTokenError, match="sub must be"):
        read_link(SECRET, _signed(bad, aud=LOGIN_AUDIENCE, jti="j"))
    now = int(datetime.now(UTC).timestamp())
    with pytest.raises(InvalidTokenError, match="sub must be"):
        read_session(
            SECRET,
            _signed(bad, aud=SESSION_AUDIENCE, jti="j", seen=now),
            datetime.now(UTC),
            timedelta(hours=1),
        )
    with pytest.raises(ValueError, match="sub must be"):
        mint_token(SECRET, bad, [Role.HR], timedelta(hours=1))
    with pytest.raises(ValueError, match="must be"):
        Actor(bad, frozenset({Role.HR}))


@pytest.mark.parametrize("good", GOOD_IDS)
def test_ids_under_the_rule_pass_every_door(good: str) -> None:
    assert actor_from_token(SECRET, _signed(good)).id == good
    assert read_link(SECRET, mint_link(SECRET, good, [Role.EMPLOYEE])).actor.id == good


@given(st.text(max_size=140))
def test_an_accepted_id_is_visible_ascii_and_short(value: str) -> None:
    if is_person_id(value):
        assert value.isascii() and value.isprintable() and " " not in value
        assert 1 <= len(value) <= 128 and value[0].isalnum()


@pytest.mark.parametrize("command", ["token", "login-link"])
@pytest.mark.parametrize("bad", ["hr\u0000x", "hr\u202ex", "kofi-mens\u0430h", "hr x"])
def test_the_cli_mints_nothing_for_an_id_outside_the_rule(
    monkeypatch: pytest.MonkeyPatch, command: str, bad: str
) -> None:
    monkeypatch.setenv("CRAFTING_JWT_SECRET", SECRET)
    result = CliRunner().invoke(cli, [command, "--sub", bad, "--role", "HR"])
    assert result.exit_code == 2
    assert "--sub must be a person id" in result.output
    assert "eyJ" not in result.output  # no token, no link


def test_integration_clients_of_the_settings_follow_the_rule() -> None:
    with pytest.raises(ValidationError, match="CRAFTING_OIDC_INTEGRATION_CLIENTS"):
        Settings(
            oidc_issuer="https://idp.example.com",
            oidc_audience="api://crafting",
            oidc_integration_clients="workday, sap\u202ex",
        )
    fine = Settings(
        oidc_issuer="https://idp.example.com",
        oidc_audience="api://crafting",
        oidc_integration_clients="workday, sap-sf",
    )
    assert fine.oidc.integration_clients == {"workday", "sap-sf"}
