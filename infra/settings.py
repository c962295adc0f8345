"""The one place that reads the environment (CRAFTING_*), grouped by concern.

Each group is a model whose fields carry their environment names as aliases: the field
`Settings().webhooks.timeout_seconds` is read from CRAFTING_WEBHOOKS_TIMEOUT_SECONDS.
The names of the variables are fixed (SPEC, README) and stay flat; the groups only
organise the code. `Settings(webhooks_timeout_seconds=5)` takes the same flat names."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from domain.values import PERSON_ID_RULE, Role, is_person_id
from infra.persistence import PoolSize

# Values people paste from examples; never accepted outside development.
PLACEHOLDER_SECRETS = frozenset({"changethis", "changeme", "secret", "password", "test"})
MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 8
COMMON_WORDS = ("password", "passw0rd", "secret", "changeme", "changethis", "qwerty", "letmein")


ENV_PREFIX = "CRAFTING_"


class Group(BaseModel):
    """One concern's settings; fields are given by their flat names (or their own)."""

    model_config = ConfigDict(populate_by_name=True, hide_input_in_errors=True)

    @classmethod
    def flat_names(cls) -> dict[str, str]:
        """Flat name (the environment's, lower case, without CRAFTING_) -> field."""
        return {_flat_name(name, info): name for name, info in cls.model_fields.items()}


def _flat_name(name: str, info: FieldInfo) -> str:
    alias = info.validation_alias
    return alias if isinstance(alias, str) else name


def _blank_is_unset(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _known_database(value: str | None) -> str | None:
    if value is not None and not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ValueError("must start with sqlite:/// or postgresql://")
    return value


def _comma_separated(value: str) -> frozenset[str]:
    return frozenset(item.strip() for item in value.split(",") if item.strip())


class DatabaseSettings(Group):
    """Where the events and read models live, and how many connections to them."""

    url: str = Field(default="sqlite:///./crafting.db", validation_alias="database_url")
    pool_size: int = Field(
        default=2,
        ge=1,
        le=100,
        validation_alias="db_pool_size",
        description="connections each pool keeps (two pools a process)",
    )
    max_overflow: int = Field(
        default=4,
        ge=0,
        le=100,
        validation_alias="db_max_overflow",
        description="more connections each pool may open under load",
    )

    read_urls: SecretStr | None = Field(
        default=None,
        validation_alias="read_database_url",
        description="PostgreSQL streaming replicas (comma-separated) for the read models' "
        "queries: GraphQL queries, web pages, SCIM reads",
    )
    read_max_lag_seconds: float = Field(
        default=30,
        gt=0,
        le=86_400,
        validation_alias="read_max_lag_seconds",
        description="a replica further behind is taken out of rotation (reads: the primary)",
    )

    _url = field_validator("url")(_known_database)
    _blank = field_validator("read_urls", mode="before")(_blank_is_unset)

    @field_validator("read_urls")
    @classmethod
    def _replica_urls(cls, value: SecretStr | None) -> SecretStr | None:
        # A SecretStr: the URLs may hold passwords, never shown in errors or reprs.
        if value is None:
            return None
        urls = [u.strip() for u in value.get_secret_value().split(",") if u.strip()]
        if not urls:
            return None
        for number, url in enumerate(urls, 1):
            if not url.startswith(("postgresql://", "postgres://")):
                raise ValueError(f"URL {number} must start with postgresql://")
            if not urlsplit(url).hostname:
                raise ValueError(f"URL {number} names no host")
        return SecretStr(",".join(urls))

    @model_validator(mode="after")
    def _replicas_of_postgres(self) -> DatabaseSettings:
        if self.read_urls is not None and self.is_sqlite:
            raise ValueError(
                "CRAFTING_READ_DATABASE_URL needs CRAFTING_DATABASE_URL on PostgreSQL "
                "(replicas stream from a PostgreSQL primary)"
            )
        return self

    @property
    def replica_urls(self) -> list[str]:
        """The streaming replicas' URLs (none: every read on the primary)."""
        if self.read_urls is None:
            return []
        return self.read_urls.get_secret_value().split(",")

    @property
    def is_sqlite(self) -> bool:
        """Whether the events live in an embedded SQLite file."""
        return self.url.startswith("sqlite:///")

    @property
    def pool(self) -> PoolSize:
        """The size of each connection pool."""
        return PoolSize(self.pool_size, self.max_overflow)


class AuthSettings(Group):
    """The secret that signs the service's own tokens (API, sign-in links, sessions)."""

    jwt_secret: SecretStr | None = Field(default=None, validation_alias="jwt_secret")

    _blank = field_validator("jwt_secret", mode="before")(_blank_is_unset)


class WebSettings(Group):
    """The web app: its address, its sessions, and e-mailed sign-in links."""

    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        validation_alias="public_url",
        description="where people open the web app (the base of sign-in links)",
    )
    session_idle_minutes: int = Field(
        default=30,
        ge=1,
        le=12 * 60,
        validation_alias="session_idle_minutes",
        description="a web session ends after this long unused",
    )
    email_signin: bool | None = Field(
        default=None,
        validation_alias="email_signin",
        description='"e-mail me a sign-in link" on /signin (default: on without OIDC web sign-in)',
    )


class OidcSettings(Group):
    """OpenID Connect (README: "Sign-in with your identity provider"). The issuer's
    discovery document names its keys; API tokens must name the audience; web sign-in
    needs the client. Names fixed by SPEC section 8."""

    issuer: str | None = Field(
        default=None, validation_alias="oidc_issuer", description="the provider's issuer URL"
    )
    audience: str | None = Field(
        default=None, validation_alias="oidc_audience", description="`aud` of API tokens"
    )
    person_claim: str = Field(
        default="sub", min_length=1, max_length=200, validation_alias="oidc_person_claim"
    )
    roles_claim: str = Field(
        default="roles", min_length=1, max_length=200, validation_alias="oidc_roles_claim"
    )
    role_map: dict[str, Role] = Field(
        default_factory=dict,
        validation_alias="oidc_role_map",
        description="JSON: a role or group name -> one of our roles",
    )
    client_id: str | None = Field(
        default=None, validation_alias="oidc_client_id", description="web sign-in client"
    )
    client_secret: SecretStr | None = Field(default=None, validation_alias="oidc_client_secret")
    integration_client_ids: str = Field(
        default="",
        validation_alias="oidc_integration_clients",
        description="client ids (comma-separated) whose tokens are INTEGRATION callers",
    )
    provider_name: str = Field(
        default="your company account",
        max_length=80,
        validation_alias="oidc_provider_name",
        description='"Sign in with …"',
    )
    scopes: str = Field(
        default="openid email profile",
        validation_alias="oidc_scopes",
        description="web sign-in scopes",
    )
    leeway_seconds: int = Field(
        default=60,
        ge=0,
        le=300,
        validation_alias="oidc_leeway_seconds",
        description="clock skew allowed",
    )
    jwks_cache_seconds: float = Field(
        default=600,
        ge=1,
        le=86_400,
        validation_alias="oidc_jwks_cache_seconds",
        description="the provider's keys are trusted this long",
    )
    jwks_min_refresh_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        validation_alias="oidc_jwks_min_refresh_seconds",
        description="the keys are fetched at most this often",
    )

    _blank = field_validator("issuer", "audience", "client_id", "client_secret", mode="before")(
        _blank_is_unset
    )

    @field_validator("role_map", mode="before")
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

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str | None) -> str | None:
        if value is not None and not _https_or_loopback(value):
            raise ValueError("must be an https:// URL (http:// only on a loopback address)")
        return value

    @model_validator(mode="after")
    def _complete(self) -> OidcSettings:
        issuer, web = self.issuer, (self.client_id, self.client_secret)
        if issuer is None and (self.audience or any(v is not None for v in web)):
            raise ValueError("CRAFTING_OIDC_ISSUER is needed for the other CRAFTING_OIDC_ settings")
        if issuer is not None and not self.audience and None in web:
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

    @property
    def integration_clients(self) -> frozenset[str]:
        """The client ids whose tokens are INTEGRATION callers."""
        return _comma_separated(self.integration_client_ids)


class KeySettings(Group):
    """The service's keys: the checkpoint signing key and the ones trusted before it,
    and the master key with the database of the data keys personal data is sealed under."""

    signing_key: SecretStr | None = Field(
        default=None, validation_alias="signing_key", description="base64 Ed25519 key"
    )
    trusted_public_keys: str = Field(
        default="",
        validation_alias="trusted_public_keys",
        description="earlier checkpoint public keys still trusted (base64, comma-separated)",
    )
    checkpoint_seconds: float = Field(
        default=300,
        ge=1,
        validation_alias="checkpoint_seconds",
        description="how often a checkpoint is signed while events arrive",
    )
    master_key: SecretStr | None = Field(
        default=None,
        validation_alias="master_key",
        description="base64 of 32 random bytes: wraps the data keys (erasure)",
    )
    keystore_url: str | None = Field(
        default=None,
        validation_alias="keystore_url",
        description="database of the data keys (default: the events' database)",
    )
    seal_personal_data: bool = Field(
        default=True,
        validation_alias="seal_personal_data",
        description="off: new personal data is stored in clear and cannot be erased "
        "(for measuring what sealing costs; never in production)",
    )

    _blank = field_validator("signing_key", "master_key", "keystore_url", mode="before")(
        _blank_is_unset
    )
    _keystore = field_validator("keystore_url")(_known_database)

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


class RetentionSettings(Group):
    """How long people's data is kept after they leave."""

    days_after_leaving: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        validation_alias="retention_days_after_leaving",
        description="erase people inactive for longer than this (off when unset)",
    )


class ProjectionSettings(Group):
    """The read models: where the projector runs, how it reads, when /readyz fails."""

    serve: bool | None = Field(
        default=None,
        validation_alias="serve_projections",
        description="run projections inside serve (default: on SQLite only)",
    )
    batch_size: int = Field(default=500, ge=1, le=10_000, validation_alias="projector_batch_size")
    compiled_reads: bool = Field(
        default=True,
        validation_alias="compiled_reads",
        description="agreement lists as one SQL statement (PostgreSQL)",
    )
    aggregate_cache_size: int = Field(
        default=500, ge=0, le=1_000_000, validation_alias="aggregate_cache_size"
    )
    ready_heartbeat_seconds: float = Field(
        default=10,
        gt=0,
        le=3600,
        validation_alias="ready_heartbeat_seconds",
        description="/readyz fails when the projector is silent longer",
    )
    ready_max_lag_seconds: float = Field(
        default=30,
        gt=0,
        le=86_400,
        validation_alias="ready_max_lag_seconds",
        description="/readyz fails when projections are behind longer",
    )


class LimitSettings(Group):
    """What one caller may ask of the service, and the agreements' own cap."""

    rate_per_second: float = Field(
        default=50,
        ge=0,
        le=100_000,
        validation_alias="rate_limit_per_second",
        description="requests per caller and process; 0: off",
    )
    rate_burst: int = Field(default=100, ge=1, le=1_000_000, validation_alias="rate_limit_burst")
    request_body_seconds: float = Field(
        default=20,
        gt=0,
        le=600,
        validation_alias="request_body_seconds",
        description="a request body must arrive whole within this long (else 408)",
    )
    max_hours_received_per_week: float = Field(
        default=4.0, gt=0, le=40, validation_alias="max_hours_received_per_week"
    )
    insights_min_group: int = Field(
        default=5,
        ge=2,
        le=1000,
        validation_alias="insights_min_group",
        description="insights withhold any figure about fewer people (docs/insights.md)",
    )


class ScimSettings(Group):
    """How identity providers provision the directory (SCIM), and the guard against a
    wave of deactivations."""

    default_contracted_hours: float = Field(
        default=40,
        ge=0,
        le=80,
        validation_alias="scim_default_contracted_hours",
        description="SCIM users without our extension's contracted hours",
    )
    deactivation_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        validation_alias="scim_deactivation_share",
        description="SCIM deactivations above this share of the directory within the window "
        "are held for HR",
    )
    deactivation_window_seconds: int = Field(
        default=3600,
        ge=60,
        le=7 * 86_400,
        validation_alias="scim_deactivation_window_seconds",
        description="the deactivation guard's window",
    )
    deactivation_min_people: int = Field(
        default=3,
        ge=0,
        le=100_000,
        validation_alias="scim_deactivation_min_people",
        description="a wave of this many is never held",
    )


class WebhookSettings(Group):
    """Webhooks (docs/integration.md). Private, loopback and link-local receivers are
    refused unless allowed (server-side request forgery); http only in development."""

    allow_private: bool = Field(
        default=False,
        validation_alias="webhooks_allow_private",
        description="allow loopback and private webhook receivers",
    )
    run: bool | None = Field(
        default=None,
        validation_alias="webhooks_run",
        description="deliver webhooks inside serve (default: as projections)",
    )
    timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=60,
        validation_alias="webhooks_timeout_seconds",
        description="per attempt",
    )
    retry_min_seconds: float = Field(
        default=5, gt=0, le=3600, validation_alias="webhooks_retry_min_seconds"
    )
    retry_max_seconds: float = Field(
        default=3600, gt=0, le=86_400, validation_alias="webhooks_retry_max_seconds"
    )
    disable_after_seconds: float = Field(
        default=5 * 86_400,
        gt=0,
        validation_alias="webhooks_disable_after_seconds",
        description="a subscription failing this long is disabled",
    )
    secret_grace_seconds: float = Field(
        default=86_400,
        ge=0,
        le=30 * 86_400,
        validation_alias="webhooks_secret_grace_seconds",
        description="the old secret signs after rotation",
    )
    reminder_seconds: float = Field(
        default=60,
        gt=0,
        le=86_400,
        validation_alias="webhooks_reminder_seconds",
        description="how often review.due reminders are looked for",
    )
    max_subscriptions: int = Field(
        default=20,
        ge=1,
        le=1000,
        validation_alias="webhooks_max_subscriptions",
        description="subscriptions one integration may hold",
    )
    concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        validation_alias="webhooks_concurrency",
        description="subscriptions delivered to at once",
    )


class NotificationSettings(Group):
    """E-mail notifications (README: "Notifications"). SMTP URL and sender fixed by SPEC
    section 9; without a URL, mail goes to a local mailbox file and the web app."""

    smtp_url: SecretStr | None = Field(
        default=None,
        validation_alias="smtp_url",
        description="smtp://user:password@host:587 (STARTTLS) or smtps://…:465",
    )
    mail_from: str = Field(
        default="Crafting agreements <crafting@localhost>",
        pattern=r"^[^\r\n]*@[^\r\n]*$",
        max_length=200,
        validation_alias="mail_from",
        description="the From of every notification",
    )
    mailbox_path: str | None = Field(
        default=None,
        validation_alias="mailbox_path",
        description="the local mailbox without SMTP (default: beside the database)",
    )
    run: bool | None = Field(
        default=None,
        validation_alias="notify_run",
        description="send notifications inside serve (default: as projections)",
    )
    hr_people_ids: str = Field(
        default="",
        validation_alias="notify_hr_people",
        description="person ids (comma-separated) told of legal holds and held waves",
    )
    review_days_before: int = Field(
        default=3, ge=0, le=60, validation_alias="notify_review_days_before"
    )
    retry_min_seconds: float = Field(
        default=5, gt=0, le=3600, validation_alias="notify_retry_min_seconds"
    )
    retry_max_seconds: float = Field(
        default=1800, gt=0, le=86_400, validation_alias="notify_retry_max_seconds"
    )

    _blank = field_validator("smtp_url", "mailbox_path", mode="before")(_blank_is_unset)

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and urlsplit(value.get_secret_value()).scheme not in ("smtp", "smtps"):
            raise ValueError("must start with smtp:// (STARTTLS when offered) or smtps://")
        return value

    @property
    def hr_people(self) -> frozenset[str]:
        """The person ids told of legal holds and held waves."""
        return _comma_separated(self.hr_people_ids)


class _FlatEnvironment(PydanticBaseSettingsSource):
    """Reads each group's fields from their flat CRAFTING_* names (case-insensitive)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every name at once

    def __call__(self) -> dict[str, Any]:
        environ = {name.lower(): value for name, value in os.environ.items()}
        found: dict[str, Any] = {}
        for flat in Settings.flat_names():
            value = environ.get((ENV_PREFIX + flat).lower())
            if value is not None:
                found[flat] = value
        return found


class Settings(BaseSettings):
    """Every setting, by concern; read from CRAFTING_* or given by flat name."""

    # Errors about settings never print the values given (they may be secrets).
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    dev: bool = Field(default=False, description="GraphiQL, introspection, weak secrets")
    log_level: str = "INFO"
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    keys: KeySettings = Field(default_factory=KeySettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    projections: ProjectionSettings = Field(default_factory=ProjectionSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    scim: ScimSettings = Field(default_factory=ScimSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Given values first, then the flat CRAFTING_* environment."""
        return init_settings, _FlatEnvironment(settings_cls)

    @classmethod
    def flat_names(cls) -> dict[str, tuple[str, str]]:
        """Every flat name (the environment's without CRAFTING_, lower case) -> (group,
        field); a top-level setting's group is ""."""
        names: dict[str, tuple[str, str]] = {"dev": ("", "dev"), "log_level": ("", "log_level")}
        for group, model in _groups().items():
            for flat, field in model.flat_names().items():
                names[flat] = (group, field)
        return names

    @model_validator(mode="before")
    @classmethod
    def _grouped(cls, given: Any) -> Any:
        # Flat names (from the environment or given) go to their group; a group given
        # whole (Settings(webhooks=WebhookSettings(...))) is kept as it is.
        if not isinstance(given, dict):
            return given
        names = cls.flat_names()
        result: dict[str, Any] = {}
        grouped: dict[str, dict[str, Any]] = {}
        for key, value in given.items():
            group, _ = names.get(key.lower(), (None, key))
            if group is None or group == "":
                result[key] = value
            else:
                grouped.setdefault(group, {})[key.lower()] = value
        for group, values in grouped.items():
            whole = result.get(group)
            if isinstance(whole, Group):
                whole = whole.model_dump()
            result[group] = {**(whole or {}), **values}
        return result

    @model_validator(mode="after")
    def _no_placeholder_secret(self) -> Settings:
        if self.auth.jwt_secret is not None and not self.dev:
            check_secret(self.auth.jwt_secret.get_secret_value())
        return self


def _groups() -> dict[str, type[Group]]:
    return {
        name: info.annotation
        for name, info in Settings.model_fields.items()
        if isinstance(info.annotation, type) and issubclass(info.annotation, Group)
    }


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
