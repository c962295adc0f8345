"""Settings grouped by concern keep every environment variable's flat name (SPEC §6, §8,
§9 and the README fix them), read them into their group, and name the variable when one
is refused."""

from __future__ import annotations

import sys

import pytest
from pydantic import SecretStr

from api.cli.main import main
from infra.settings import Settings

PG = "postgresql://postgres@127.0.0.1:5432/crafting"

# What operators set today: a rename of any of these breaks their deployments.
VARIABLES = [
    "AGGREGATE_CACHE_SIZE",
    "CHECKPOINT_SECONDS",
    "COMPILED_READS",
    "DATABASE_URL",
    "DB_MAX_OVERFLOW",
    "DB_POOL_SIZE",
    "DEV",
    "EMAIL_SIGNIN",
    "INSIGHTS_MIN_GROUP",
    "JWT_SECRET",
    "KEYSTORE_URL",
    "LOG_LEVEL",
    "MAILBOX_PATH",
    "MAIL_FROM",
    "MASTER_KEY",
    "MAX_HOURS_RECEIVED_PER_WEEK",
    "NOTIFY_HR_PEOPLE",
    "NOTIFY_RETRY_MAX_SECONDS",
    "NOTIFY_RETRY_MIN_SECONDS",
    "NOTIFY_REVIEW_DAYS_BEFORE",
    "NOTIFY_RUN",
    "OIDC_AUDIENCE",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_INTEGRATION_CLIENTS",
    "OIDC_ISSUER",
    "OIDC_JWKS_CACHE_SECONDS",
    "OIDC_JWKS_MIN_REFRESH_SECONDS",
    "OIDC_LEEWAY_SECONDS",
    "OIDC_PERSON_CLAIM",
    "OIDC_PROVIDER_NAME",
    "OIDC_ROLES_CLAIM",
    "OIDC_ROLE_MAP",
    "OIDC_SCOPES",
    "PROJECTOR_BATCH_SIZE",
    "PUBLIC_URL",
    "RATE_LIMIT_BURST",
    "RATE_LIMIT_PER_SECOND",
    "READ_DATABASE_URL",
    "READ_MAX_LAG_SECONDS",
    "READY_HEARTBEAT_SECONDS",
    "READY_MAX_LAG_SECONDS",
    "REQUEST_BODY_SECONDS",
    "RETENTION_DAYS_AFTER_LEAVING",
    "SCIM_DEACTIVATION_MIN_PEOPLE",
    "SCIM_DEACTIVATION_SHARE",
    "SCIM_DEACTIVATION_WINDOW_SECONDS",
    "SCIM_DEFAULT_CONTRACTED_HOURS",
    "SEAL_PERSONAL_DATA",
    "SERVE_PROJECTIONS",
    "SESSION_IDLE_MINUTES",
    "SIGNING_KEY",
    "SMTP_URL",
    "TRUSTED_PUBLIC_KEYS",
    "WEBHOOKS_ALLOW_PRIVATE",
    "WEBHOOKS_CONCURRENCY",
    "WEBHOOKS_DISABLE_AFTER_SECONDS",
    "WEBHOOKS_MAX_SUBSCRIPTIONS",
    "WEBHOOKS_REMINDER_SECONDS",
    "WEBHOOKS_RETRY_MAX_SECONDS",
    "WEBHOOKS_RETRY_MIN_SECONDS",
    "WEBHOOKS_RUN",
    "WEBHOOKS_SECRET_GRACE_SECONDS",
    "WEBHOOKS_TIMEOUT_SECONDS",
]


def test_every_variable_keeps_its_flat_name() -> None:
    assert sorted(name.upper() for name in Settings.flat_names()) == sorted(VARIABLES)


def test_each_variable_is_read_into_its_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFTING_DATABASE_URL", PG)
    monkeypatch.setenv("CRAFTING_DEV", "1")
    monkeypatch.setenv("CRAFTING_DB_POOL_SIZE", "7")
    monkeypatch.setenv("CRAFTING_WEBHOOKS_TIMEOUT_SECONDS", "3.5")
    monkeypatch.setenv("crafting_oidc_person_claim", "email")  # names are case-insensitive
    monkeypatch.setenv("CRAFTING_OIDC_ROLE_MAP", '{"g-hr": "HR"}')
    monkeypatch.setenv("CRAFTING_NOTIFY_HR_PEOPLE", "hr-1, hr-2")
    monkeypatch.setenv("CRAFTING_RATE_LIMIT_PER_SECOND", "0")
    monkeypatch.setenv("CRAFTING_SEAL_PERSONAL_DATA", "false")
    settings = Settings()
    assert settings.dev and not settings.database.is_sqlite
    assert settings.database.pool.size == 7
    assert settings.webhooks.timeout_seconds == 3.5
    assert settings.oidc.person_claim == "email"
    assert settings.oidc.role_map == {"g-hr": "HR"}
    assert settings.notifications.hr_people == {"hr-1", "hr-2"}
    assert settings.limits.rate_per_second == 0
    assert not settings.keys.seal_personal_data
    # A value given by its flat name wins over the environment's.
    assert Settings(webhooks_timeout_seconds=9).webhooks.timeout_seconds == 9
    assert Settings(db_pool_size=3).database.pool_size == 3


def test_a_placeholder_secret_is_refused_from_the_environment_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRAFTING_DATABASE_URL", PG)
    monkeypatch.setenv("CRAFTING_JWT_SECRET", "changeme")
    with pytest.raises(ValueError, match="CRAFTING_JWT_SECRET is too weak") as caught:
        Settings()
    assert "changeme" not in str(caught.value)
    monkeypatch.setenv("CRAFTING_DEV", "true")
    assert Settings().auth.jwt_secret == SecretStr("changeme")


def test_the_cli_names_the_variable_it_refuses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRAFTING_PUBLIC_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("CRAFTING_DATABASE_URL", PG)
    monkeypatch.setenv("CRAFTING_DB_POOL_SIZE", "0")
    monkeypatch.setattr(sys, "argv", ["crafting", "serve"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    said = capsys.readouterr().err
    assert "crafting: configuration: CRAFTING_DB_POOL_SIZE: " in said
