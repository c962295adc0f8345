"""The OpenID Connect settings: a bad role map or half a configuration stops start-up
with a clear message, and the client secret never appears in one."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from infra.settings import Settings

ISSUER = "https://idp.example/realms/acme"


def settings(**given: Any) -> Settings:
    return Settings(dev=True, **given)


def test_the_role_map_is_json_of_our_roles() -> None:
    mapped = settings(oidc_issuer=ISSUER, oidc_audience="api", oidc_role_map='{"g-hr": "HR"}')
    assert mapped.oidc.role_map == {"g-hr": "HR"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "must be a JSON object"),
        ('["HR"]', "must be a JSON object"),
        ('{"g-admins": "ADMIN"}', "maps 'g-admins' to an unknown role"),
    ],
)
def test_a_bad_role_map_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("CRAFTING_OIDC_ROLE_MAP", value)
    with pytest.raises(ValidationError, match=message):
        Settings(dev=True, oidc_issuer=ISSUER, oidc_audience="api")


@pytest.mark.parametrize(
    "given",
    [
        {"oidc_audience": "api"},
        {"oidc_issuer": ISSUER},
        {"oidc_issuer": ISSUER, "oidc_client_id": "web"},
        {"oidc_issuer": "http://idp.example", "oidc_audience": "api"},
        {
            "oidc_issuer": ISSUER,
            "oidc_audience": "api",
            "oidc_integration_clients": "web",
            "oidc_client_id": "web",
            "oidc_client_secret": "s3cr3t-value-never-shown",
        },
    ],
)
def test_half_a_configuration_stops_start_up(given: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as error:
        settings(**given)
    assert "s3cr3t-value-never-shown" not in str(error.value)


def test_the_client_secret_is_never_shown() -> None:
    configured = settings(
        oidc_issuer=ISSUER, oidc_client_id="web", oidc_client_secret="s3cr3t-value-never-shown"
    )
    assert "s3cr3t-value-never-shown" not in repr(configured)
    assert "s3cr3t-value-never-shown" not in str(configured.model_dump())


def test_http_is_only_for_a_provider_on_this_machine() -> None:
    assert settings(oidc_issuer="http://127.0.0.1:9000", oidc_audience="api").oidc.issuer
    assert settings(oidc_issuer="http://localhost:9000", oidc_audience="api").oidc.issuer
