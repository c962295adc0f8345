"""From a provider token's verified claims to our caller (README: "Sign-in with your
identity provider").

- A token of a client listed as an integration (`client_id`, `azp` or `cid` in
  CRAFTING_OIDC_INTEGRATION_CLIENTS: a client-credentials token) is an INTEGRATION
  caller named by that client id. So is a token whose roles map to INTEGRATION and that
  names no person (e.g. Entra ID application roles).
- Anyone else is a person: the id is the person claim (`sub` by default; `email` and
  `upn` are looked up in the directory), the roles come from the roles claim, each value
  mapped by CRAFTING_OIDC_ROLE_MAP (our own role names map to themselves).
- A token that names no person, or maps to no role, is refused with a message that
  says which claim is missing (UnmappedTokenError, 403): never an empty caller."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.access import Actor
from domain.values import PERSON_ID_RULE, Role, email_key, is_person_id

CLIENT_CLAIMS = ("client_id", "azp", "cid")
EMAIL_CLAIMS = frozenset({"email", "upn"})


class Ambiguous:
    """Several people of the directory have the address: it names none of them."""


AMBIGUOUS = Ambiguous()
# The person id an e-mail address names, None (nobody), or AMBIGUOUS.
FindByEmail = Callable[[str], str | Ambiguous | None]


class UnmappedTokenError(Exception):
    """A valid token that does not name one of our callers (403); the message says why."""


def claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name; a dotted name reaches into objects (Keycloak's
    `realm_access.roles`) when no claim has the name itself."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


@dataclass(frozen=True)
class ClaimMapping:
    person_claim: str = "sub"
    roles_claim: str = "roles"
    role_map: Mapping[str, Role] = field(default_factory=dict)
    integration_clients: frozenset[str] = frozenset()
    find_by_email: FindByEmail | None = None

    @property
    def looks_up(self) -> bool:
        """Whether mapping reads the directory (then run it off the event loop)."""
        return self.person_claim in EMAIL_CLAIMS

    def actor(self, claims: Mapping[str, Any]) -> Actor:
        """The caller the claims name (UnmappedTokenError when they name none)."""
        client = next((c for c in map(claims.get, CLIENT_CLAIMS) if isinstance(c, str)), None)
        if client is not None and client in self.integration_clients:
            return Actor(client, frozenset({Role.INTEGRATION}))
        roles = self.roles(claims)
        person = claim(claims, self.person_claim)
        if person is None and Role.INTEGRATION in roles and client is not None:
            if not is_person_id(client):
                raise UnmappedTokenError(
                    f"The token's client id is not one we can record as a caller (it must "
                    f"be {PERSON_ID_RULE})."
                )
            return Actor(client, roles)
        person_id = self.person_id(person, claims)
        if not roles:
            raise UnmappedTokenError(
                f"The token's `{self.roles_claim}` claim maps to none of our roles "
                "(EMPLOYEE, MANAGER, HR, AUDITOR, INTEGRATION); ask your administrator to "
                "add your role or group to CRAFTING_OIDC_ROLE_MAP."
            )
        return Actor(person_id, roles)

    def roles(self, claims: Mapping[str, Any]) -> frozenset[Role]:
        """Our roles named by the roles claim: a list of strings (or one string)."""
        values = claim(claims, self.roles_claim)
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            return frozenset()
        found = set()
        for value in values:
            if not isinstance(value, str):
                continue
            if value in self.role_map:
                found.add(self.role_map[value])
            elif value in Role.__members__:
                found.add(Role(value))
        return frozenset(found)

    def person_id(self, value: Any, claims: Mapping[str, Any] | None = None) -> str:
        """The person id the person claim's value names: the value itself under the
        person-id rule, or the one person of the directory with that address (for
        `email`, only once the provider says it verified it)."""
        if not isinstance(value, str) or not value.strip():
            raise UnmappedTokenError(
                f"The token has no `{self.person_claim}` claim naming a person "
                "(CRAFTING_OIDC_PERSON_CLAIM)."
            )
        if self.looks_up:
            return self._person_by_email(value, claims or {})
        if not is_person_id(value):
            raise UnmappedTokenError(
                f"The token's `{self.person_claim}` claim is not a person id we accept (it "
                f"must be {PERSON_ID_RULE}); ask your administrator to set "
                "CRAFTING_OIDC_PERSON_CLAIM to the claim holding your employee id."
            )
        return value

    def _person_by_email(self, value: str, claims: Mapping[str, Any]) -> str:
        # A provider may let anyone put any address in `email`: only a verified one
        # names a person. (`upn` is assigned by the tenant's administrators.)
        if self.person_claim == "email" and claims.get("email_verified") is not True:
            raise UnmappedTokenError(
                "Your e-mail address is not verified by the identity provider (its "
                "`email_verified` claim), so it cannot sign you in: verify it there, or ask "
                "your administrator."
            )
        wanted = email_key(value)
        found = None if wanted is None or self.find_by_email is None else self.find_by_email(wanted)
        if isinstance(found, Ambiguous):
            raise UnmappedTokenError(
                f"Several people in the directory have the e-mail address of the token's "
                f"`{self.person_claim}` claim, so it names none of them; ask HR to correct "
                "the directory."
            )
        if found is None or not is_person_id(found):
            raise UnmappedTokenError(
                f"No one in the directory has the e-mail address of the token's "
                f"`{self.person_claim}` claim."
            )
        return found
