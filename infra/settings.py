"""The one place that reads the environment (CRAFTING_*)."""

from __future__ import annotations

import base64
import ipaddress
import json
from itertools import pairwise
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.values import PERSON_ID_RULE, Role, is_person_id
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
    checkpoint_seconds: float = Field(default=300, ge=1, description="checkpoint interval")
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
    request_body_seconds: float = Field(
        default=20,
        gt=0,
        le=600,
        description="a request body must arrive whole within this long (else 408)",
    )
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
    webhooks_max_subscriptions: int = Field(
        default=20, ge=1, le=1000, description="subscriptions one integration may hold"
    )
    webhooks_concurrency: int = Field(
        default=8, ge=1, le=64, description="subscriptions delivered to at once"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="where people open the web app (the base of sign-in links)",
    )
    # E-mail notifications (README: "Notifications"). SMTP URL and sender fixed by SPEC
    # section 9; without a URL, mail goes to a local mailbox file and the web app.
    smtp_url: SecretStr | None = Field(
        default=None, description="smtp://user:password@host:587 (STARTTLS) or smtps://…:465"
    )
    mail_from: str = Field(
        default="Crafting agreements <crafting@localhost>",
        pattern=r"^[^\r\n]*@[^\r\n]*$",
        max_length=200,
        description="the From of every notification",
    )
    mailbox_path: str | None = Field(
        default=None, description="the local mailbox without SMTP (default: beside the database)"
    )
    notify_run: bool | None = Field(
        default=None, description="send notifications inside serve (default: as projections)"
    )
    notify_hr_people: str = Field(
        default="", description="person ids (comma-separated) told of legal holds and held waves"
    )
    email_signin: bool | None = Field(
        default=None,
        description='"e-mail me a sign-in link" on /signin (default: on without OIDC web sign-in)',
    )
    notify_review_days_before: int = Field(default=3, ge=0, le=60)
    notify_retry_min_seconds: float = Field(default=5, gt=0, le=3600)
    notify_retry_max_seconds: float = Field(default=1800, gt=0, le=86_400)
    session_idle_minutes: int = Field(
        default=30, ge=1, le=12 * 60, description="a web session ends after this long unused"
    )
    # OpenID Connect (README: "Sign-in with your identity provider"). The issuer's
    # discovery document names its keys; API tokens must name the audience; web sign-in
    # needs the client. Names fixed by SPEC section 8.
    oidc_issuer: str | None = Field(default=None, description="the provider's issuer URL")
    oidc_audience: str | None = Field(default=None, description="`aud` of API access tokens")
    oidc_person_claim: str = Field(default="sub", min_length=1, max_length=200)
    oidc_roles_claim: str = Field(default="roles", min_length=1, max_length=200)
    oidc_role_map: Annotated[dict[str, Role], NoDecode] = Field(
        default_factory=dict, description="JSON: a role or group name -> one of our roles"
    )
    oidc_client_id: str | None = Field(default=None, description="web sign-in client")
    oidc_client_secret: SecretStr | None = None
    oidc_integration_clients: str = Field(
        default="",
        description="client ids (comma-separated) whose tokens are INTEGRATION callers",
    )
    oidc_provider_name: str = Field(
        default="your company account", max_length=80, description='"Sign in with …"'
    )
    oidc_scopes: str = Field(default="openid email profile", description="web sign-in scopes")
    oidc_leeway_seconds: int = Field(default=60, ge=0, le=300, description="clock skew allowed")
    oidc_jwks_cache_seconds: float = Field(
        default=600, ge=1, le=86_400, description="the provider's keys are trusted this long"
    )
    oidc_jwks_min_refresh_seconds: float = Field(
        default=30, ge=0, le=3600, description="the keys are fetched at most this often"
    )

    @field_validator(
        "jwt_secret",
        "signing_key",
        "master_key",
        "keystore_url",
        "oidc_issuer",
        "oidc_audience",
        "oidc_client_id",
        "oidc_client_secret",
        "smtp_url",
        "mailbox_path",
        mode="before",
    )
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

    @field_validator("oidc_role_map", mode="before")
    @classmethod
    def _role_map(cls, value: object) -> object:
        # Said here rather than by pydantic: which of our roles exist, and never the value.
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError:
                raise ValueError('must be a JSON object, e.g. {"crafting-hr": "HR"}') from None
        if not isinstance(value, dict):
            raise ValueError('must be a JSON object, e.g. {"crafting-hr": "HR"}')
        known = sorted(Role.__members__)
        for name, role in value.items():
            if role not in Role.__members__:
                raise ValueError(f"maps {name!r} to an unknown role; use one of {known}")
        return value

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_url(cls, value: str | None) -> str | None:
        if value is not None and not _https_or_loopback(value):
            raise ValueError("must be an https:// URL (http:// only on a loopback address)")
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        issuer, web = self.oidc_issuer, (self.oidc_client_id, self.oidc_client_secret)
        if issuer is None and (self.oidc_audience or any(v is not None for v in web)):
            raise ValueError("CRAFTING_OIDC_ISSUER is needed for the other CRAFTING_OIDC_ settings")
        if issuer is not None and not self.oidc_audience and None in web:
            raise ValueError(
                "CRAFTING_OIDC_ISSUER needs CRAFTING_OIDC_AUDIENCE (API tokens), or "
                "CRAFTING_OIDC_CLIENT_ID and CRAFTING_OIDC_CLIENT_SECRET (web sign-in), or both"
            )
        if (web[0] is None) != (web[1] is None):
            raise ValueError("CRAFTING_OIDC_CLIENT_ID and CRAFTING_OIDC_CLIENT_SECRET go together")
        if web[0] is not None and web[0] in self.integration_clients:
            raise ValueError("the web sign-in client cannot be an integration client")
        # An integration client's id is the caller's id in every event it records.
        for client in sorted(self.integration_clients):
            if not is_person_id(client):
                raise ValueError(
                    f"CRAFTING_OIDC_INTEGRATION_CLIENTS: {client!r} is not an id we record "
                    f"(each must be {PERSON_ID_RULE})"
                )
        return self

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and urlsplit(value.get_secret_value()).scheme not in ("smtp", "smtps"):
            raise ValueError("must start with smtp:// (STARTTLS when offered) or smtps://")
        return value

    @property
    def hr_people(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.notify_hr_people.split(",") if p.strip())

    @property
    def integration_clients(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.oidc_integration_clients.split(",") if c.strip())

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


def _https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or parts.query or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


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
