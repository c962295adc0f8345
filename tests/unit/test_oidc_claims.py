"""Claim mapping (api.http.claim_mapping): who a provider token names, or a clear 403."""

from __future__ import annotations

import pytest

from api.http.claim_mapping import ClaimMapping, UnmappedTokenError
from domain.access import Actor
from domain.values import Role

MAP = {"g-hr": Role.HR, "Crafting.Integration": Role.INTEGRATION}


def test_groups_map_and_our_own_role_names_map_to_themselves() -> None:
    mapping = ClaimMapping(roles_claim="groups", role_map=MAP)
    actor = mapping.actor({"sub": "p1", "groups": ["g-hr", "EMPLOYEE", "unrelated"]})
    assert actor == Actor("p1", frozenset({Role.HR, Role.EMPLOYEE}))


def test_keycloak_realm_roles_are_reached_by_a_dotted_claim() -> None:
    mapping = ClaimMapping(roles_claim="realm_access.roles")
    actor = mapping.actor({"sub": "p1", "realm_access": {"roles": ["MANAGER", "offline"]}})
    assert actor.roles == {Role.MANAGER}


def test_a_listed_client_is_an_integration_whatever_else_it_says() -> None:
    mapping = ClaimMapping(integration_clients=frozenset({"workday"}))
    for client_claim in ("client_id", "azp", "cid"):
        actor = mapping.actor({"sub": "svc-uuid", client_claim: "workday", "roles": ["HR"]})
        assert actor == Actor("workday", frozenset({Role.INTEGRATION}))


def test_application_roles_without_a_person_make_an_integration() -> None:
    mapping = ClaimMapping(person_claim="employee_id", role_map=MAP)
    actor = mapping.actor({"sub": "sp-oid", "azp": "app-1", "roles": ["Crafting.Integration"]})
    assert actor == Actor("app-1", frozenset({Role.INTEGRATION}))


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"sub": "p1"}, "`roles` claim maps to none of our roles"),
        ({"sub": "p1", "roles": ["admins"]}, "`roles` claim maps to none of our roles"),
        ({"roles": ["HR"]}, "no `sub` claim naming a person"),
        ({"sub": "", "roles": ["HR"]}, "no `sub` claim naming a person"),
        ({"sub": "x" * 129, "roles": ["HR"]}, "too long"),
    ],
)
def test_a_token_naming_no_caller_is_refused_saying_why(
    claims: dict[str, object], says: str
) -> None:
    with pytest.raises(UnmappedTokenError, match=says):
        ClaimMapping().actor(claims)


def test_an_email_claim_is_looked_up_in_the_directory() -> None:
    directory = {"ada@example.com": "E-1"}
    mapping = ClaimMapping(person_claim="email", find_by_email=directory.get)
    assert mapping.actor({"email": "ada@example.com", "roles": ["EMPLOYEE"]}).id == "E-1"
    with pytest.raises(UnmappedTokenError, match="No one in the directory"):
        mapping.actor({"email": "bob@example.com", "roles": ["EMPLOYEE"]})
