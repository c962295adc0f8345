"""The one place that reads the environment (CRAFTING_*)."""

from __future__ import annotations

import base64
from itertools import pairwise

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.persistence import PoolSize

# Values people paste from examples; never accepted outside development.
PLACEHOLDER_SECRETS = frozenset({"changethis", "changeme", "secret", "password", "test"})
MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 8
COMMON_WORDS = ("password", "passw0rd", "secret", "changeme", "changethis", "qwerty", "letmein")


class Settings(BaseSettings):
    # Errors about settings never print the values given (they may be secrets).
    model_config = SettingsConfigDict(
        env_prefix="CRAFTING_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = "sqlite:///./crafting.db"
    jwt_secret: SecretStr | None = None
    signing_key: SecretStr | None = Field(default=None, description="base64 Ed25519 key")
    trusted_public_keys: str = Field(
        default="",
        description="earlier checkpoint public keys still trusted (base64, comma-separated)",
    )
    master_key: SecretStr | None = Field(
        default=None, description="base64 of 32 random bytes: wraps the data keys (erasure)"
    )
    keystore_url: str | None = Field(
        default=None, description="database of the data keys (default: the events' database)"
    )
    seal_personal_data: bool = Field(
        default=True,
        description="off: new personal data is stored in clear and cannot be erased "
        "(for measuring what sealing costs; never in production)",
    )
    retention_days_after_leaving: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="erase people inactive for longer than this (off when unset)",
    )
    checkpoint_seconds: float = Field(default=300, ge=1, description="seal interval")
    dev: bool = Field(default=False, description="GraphiQL, introspection, weak secrets")
    max_hours_received_per_week: float = Field(default=4.0, gt=0, le=40)
    log_level: str = "INFO"
    aggregate_cache_size: int = Field(default=500, ge=0, le=1_000_000)
    serve_projections: bool | None = Field(
        default=None, description="run projections inside serve (default: on SQLite only)"
    )
    compiled_reads: bool = Field(
        default=True, description="agreement lists as one SQL statement (PostgreSQL)"
    )
    projector_batch_size: int = Field(default=500, ge=1, le=10_000)
    db_pool_size: int = Field(
        default=2, ge=1, le=100, description="connections each pool keeps (two pools a process)"
    )
    db_max_overflow: int = Field(
        default=4, ge=0, le=100, description="more connections each pool may open under load"
    )
    rate_limit_per_second: float = Field(
        default=50, ge=0, le=100_000, description="requests per caller and process; 0: off"
    )
    rate_limit_burst: int = Field(default=100, ge=1, le=1_000_000)
    ready_heartbeat_seconds: float = Field(
        default=10, gt=0, le=3600, description="/readyz fails when the projector is silent longer"
    )
    ready_max_lag_seconds: float = Field(
        default=30, gt=0, le=86_400, description="/readyz fails when projections are behind longer"
    )
    scim_default_contracted_hours: float = Field(
        default=40, ge=0, le=80, description="SCIM users without our extension's contracted hours"
    )
    scim_deactivation_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="SCIM deactivations above this share of the directory within the window "
        "are held for HR",
    )
    scim_deactivation_window_seconds: int = Field(
        default=3600, ge=60, le=7 * 86_400, description="the deactivation guard's window"
    )
    scim_deactivation_min_people: int = Field(
        default=3, ge=0, le=100_000, description="a wave of this many is never held"
    )
    # Webhooks (docs/integration.md). Private, loopback and link-local receivers are
    # refused unless allowed (server-side request forgery); http only in development.
    webhooks_allow_private: bool = Field(
        default=False, description="allow loopback and private webhook receivers"
    )
    webhooks_run: bool | None = Field(
        default=None, description="deliver webhooks inside serve (default: as projections)"
    )
    webhooks_timeout_seconds: float = Field(default=10, gt=0, le=60, description="per attempt")
    webhooks_retry_min_seconds: float = Field(default=5, gt=0, le=3600)
    webhooks_retry_max_seconds: float = Field(default=3600, gt=0, le=86_400)
    webhooks_disable_after_seconds: float = Field(
        default=5 * 86_400, gt=0, description="a subscription failing this long is disabled"
    )
    webhooks_secret_grace_seconds: float = Field(
        default=86_400, ge=0, le=30 * 86_400, description="the old secret signs after rotation"
    )
    webhooks_reminder_seconds: float = Field(
        default=60, gt=0, le=86_400, description="how often review.due reminders are looked for"
    )
    webhooks_concurrency: int = Field(
        default=8, ge=1, le=64, description="subscriptions delivered to at once"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="where people open the web app (the base of sign-in links)",
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, le=12 * 60, description="a web session ends after this long unused"
    )

    @field_validator("jwt_secret", "signing_key", "master_key", "keystore_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("signing_key")
    @classmethod
    def _valid_signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(_base64(value.get_secret_value())) != 32:
            raise ValueError("must be a base64 Ed25519 private key (crafting keys --new)")
        return value

    @field_validator("master_key")
    @classmethod
    def _valid_master_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(_base64(value.get_secret_value())) != 32:
            raise ValueError("must be 32 random bytes, base64 (crafting keys --new-master)")
        return value

    @field_validator("database_url", "keystore_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(
            ("sqlite:///", "postgresql://", "postgres://")
        ):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secret(self) -> Settings:
        if self.jwt_secret is not None and not self.dev:
            check_secret(self.jwt_secret.get_secret_value())
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:///")

    @property
    def pool(self) -> PoolSize:
        return PoolSize(self.db_pool_size, self.db_max_overflow)


def _base64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return b""


def check_secret(secret: str) -> None:
    """Refuse secrets that are guessable: short ones, placeholders and common words,
    a block repeated, long runs (`aaaa`, `1234`), and too few distinct characters. A
    secret from `secrets.token_urlsafe(48)` passes; what people type usually does not."""
    problem = secret_weakness(secret)
    if problem is not None:
        raise ValueError(
            f"CRAFTING_JWT_SECRET is too weak ({problem}): use a random string of at least "
            f"{MIN_SECRET_LENGTH} characters, e.g. python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))' (CRAFTING_DEV=1 allows weak secrets locally)."
        )


def secret_weakness(secret: str) -> str | None:
    """Why a secret is guessable, or None (the secret itself is never in the answer)."""
    lowered = secret.strip().lower()
    if len(secret) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    if lowered in PLACEHOLDER_SECRETS or any(word in lowered for word in COMMON_WORDS):
        return "a placeholder or common word"
    if any(_repeats(secret, size) for size in range(1, len(secret) // 2 + 1)):
        return "a repeated pattern"
    steps = [ord(b) - ord(a) for a, b in pairwise(secret)]
    if sum(step in (-1, 0, 1) for step in steps) > len(steps) // 2:
        return "long runs of the same or consecutive characters"
    if len(set(secret)) < MIN_DISTINCT_CHARACTERS:
        return f"fewer than {MIN_DISTINCT_CHARACTERS} distinct characters"
    return None


def _repeats(secret: str, size: int) -> bool:
    block = secret[:size]
    return (block * (len(secret) // size + 1))[: len(secret)] == secret
