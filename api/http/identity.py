"""The identity provider as settings describe it: one key cache and one authenticator
per process, shared by the API's front doors and the web sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from api.http.authenticator import Authenticator
from api.http.claim_mapping import ClaimMapping
from api.http.jwks import KeySet
from api.http.people_lookup import PeopleByEmail
from api.http.provider_tokens import ProviderTokens
from api.ports import Ports
from infra.settings import Settings


@dataclass(frozen=True)
class WebClient:
    """What web sign-in needs of the provider (api.web.oidc)."""

    tokens: ProviderTokens
    mapping: ClaimMapping
    client_id: str
    client_secret: str
    scopes: str
    provider_name: str


@dataclass(frozen=True)
class Identity:
    authenticator: Authenticator
    web: WebClient | None


def identity(settings: Settings, secret: str, ports: Ports) -> Identity:
    """The authenticator (our HS256 tokens, and the provider's when configured) and
    the web sign-in client (when configured)."""
    if settings.oidc.issuer is None:
        return Identity(Authenticator(secret), None)
    keys = KeySet(
        settings.oidc.issuer,
        fresh_for=settings.oidc.jwks_cache_seconds,
        min_interval=settings.oidc.jwks_min_refresh_seconds,
    )
    tokens = ProviderTokens(keys, settings.oidc.leeway_seconds)
    mapping = ClaimMapping(
        settings.oidc.person_claim,
        settings.oidc.roles_claim,
        settings.oidc.role_map,
        settings.oidc.integration_clients,
        PeopleByEmail(ports.reads),
    )
    web = None
    if settings.oidc.client_id is not None and settings.oidc.client_secret is not None:
        web = WebClient(
            tokens,
            mapping,
            settings.oidc.client_id,
            settings.oidc.client_secret.get_secret_value(),
            settings.oidc.scopes,
            settings.oidc.provider_name,
        )
    return Identity(Authenticator(secret, tokens, settings.oidc.audience, mapping), web)
