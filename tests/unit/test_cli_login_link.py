"""`crafting login-link` and the demo's links: single-use web sign-in links, signed with
the configured secret, under the configured public URL."""

from __future__ import annotations

import secrets

import jwt
import pytest
from typer.testing import CliRunner

from api.cli import cli
from api.cli.signin import DEMO_PEOPLE, demo_links
from api.web.sessions import LINK_LIFETIME, read_link
from domain.values import Role
from infra.settings import Settings


def test_login_link_prints_a_ten_minute_link_under_the_public_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = secrets.token_urlsafe(48)
    monkeypatch.setenv("CRAFTING_JWT_SECRET", secret)
    monkeypatch.setenv("CRAFTING_PUBLIC_URL", "https://crafting.example.com/")
    result = CliRunner().invoke(cli, ["login-link", "--sub", "sam", "--role", "MANAGER"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("https://crafting.example.com/login/")
    token = url.rsplit("/", 1)[1]
    link = read_link(secret, token)
    assert link.actor.id == "sam" and link.actor.roles == {Role.MANAGER}
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="crafting:web-login")
    assert claims["exp"] - claims["iat"] == LINK_LIFETIME.total_seconds()
    assert secret not in result.output


def test_login_link_defaults_to_the_employee_role_and_refuses_bad_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = secrets.token_urlsafe(48)
    monkeypatch.setenv("CRAFTING_JWT_SECRET", secret)
    monkeypatch.delenv("CRAFTING_PUBLIC_URL", raising=False)
    runner = CliRunner()
    url = runner.invoke(cli, ["login-link", "--sub", "sam"]).output.strip()
    assert url.startswith("http://127.0.0.1:8000/login/")
    assert read_link(secret, url.rsplit("/", 1)[1]).actor.roles == {Role.EMPLOYEE}
    blank = runner.invoke(cli, ["login-link", "--sub", " "])
    assert blank.exit_code == 2 and "--sub" in blank.output
    unknown = runner.invoke(cli, ["login-link", "--sub", "sam", "--role", "ADMIN"])
    assert unknown.exit_code == 2


def test_the_demo_links_sign_in_the_seed_storys_people() -> None:
    secret = secrets.token_urlsafe(48)
    lines = demo_links(Settings(jwt_secret=secret), secret)
    assert len(lines) == len(DEMO_PEOPLE) == 4
    granted = {}
    for line in lines:
        link = read_link(secret, line.rsplit("/login/", 1)[1])
        granted[link.actor.id] = link.actor.roles
    assert granted == {
        "sam-tester": {Role.EMPLOYEE},
        "mgr-qa": {Role.MANAGER, Role.EMPLOYEE},
        "auditor-demo": {Role.AUDITOR},
        "hr-demo": {Role.HR},
    }
