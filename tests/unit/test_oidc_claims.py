"""Claim mapping (api.http.claim_mapping): who a provider token names, or a clear 403."""

from __future__ import annotations

from typing import Any

import pytest

from api.http.claim_mapping import AMBIGUOUS, ClaimMapping, UnmappedTokenError
from api.http.people_lookup import PeopleByEmail
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
        ({"sub": "x" * 129, "roles": ["HR"]}, "not a person id we accept"),
    ],
)
def test_a_token_naming_no_caller_is_refused_saying_why(
    claims: dict[str, object], says: str
) -> None:
    with pytest.raises(UnmappedTokenError, match=says):
        ClaimMapping().actor(claims)


# Ids no event may record: a NUL stops PostgreSQL's read side, direction overrides and
# non-ASCII letters make one id look like another, spaces and controls hide in logs.
BAD_IDS = [
    "hr\u0000x",
    "hr\u202ex",
    "kofi-mens\u0430h",  # a Cyrillic a
    "\u212aofi-mensah",  # KELVIN SIGN
    "hr x",
    " hr",
    "hr\n",
    "hr\u200b",
    "-hr",
    "hr|x",
    "x" * 129,
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_person_claim_outside_the_person_id_rule_is_refused(bad: str) -> None:
    with pytest.raises(UnmappedTokenError, match="not a person id we accept"):
        ClaimMapping().actor({"sub": bad, "roles": ["HR"]})
    with pytest.raises(UnmappedTokenError, match="not a person id we accept"):
        ClaimMapping(person_claim="employee_id").actor(
            {"sub": "ok", "employee_id": bad, "roles": ["HR"]}
        )


@pytest.mark.parametrize("bad", BAD_IDS)
def test_an_integration_client_outside_the_person_id_rule_is_refused(bad: str) -> None:
    mapping = ClaimMapping(person_claim="employee_id", role_map=MAP)
    with pytest.raises(UnmappedTokenError, match="client id"):
        mapping.actor({"sub": "sp", "azp": bad, "roles": ["Crafting.Integration"]})


def _verified(email: str, **more: Any) -> dict[str, Any]:
    return {"email": email, "email_verified": True, "roles": ["EMPLOYEE"]} | more


def test_an_email_claim_is_looked_up_in_the_directory() -> None:
    directory = {"ada@example.com": "E-1"}
    mapping = ClaimMapping(person_claim="email", find_by_email=directory.get)
    assert mapping.actor(_verified("ada@example.com")).id == "E-1"
    with pytest.raises(UnmappedTokenError, match="No one in the directory"):
        mapping.actor(_verified("bob@example.com"))


@pytest.mark.parametrize("verified", [None, False, "true", 1])
def test_an_unverified_email_claim_names_nobody(verified: object) -> None:
    mapping = ClaimMapping(person_claim="email", find_by_email={"ada@example.com": "E-1"}.get)
    claims = _verified("ada@example.com", email_verified=verified)
    if verified is None:
        del claims["email_verified"]
    with pytest.raises(UnmappedTokenError, match="not verified"):
        mapping.actor(claims)


class _Directory:
    """Reads as PeopleByEmail makes them, answering with fixed directory rows."""

    def __init__(self, *people: tuple[str, str | None, bool]) -> None:
        self.rows = [{"person_id": p, "email": e, "erased": erased} for p, e, erased in people]

    def run(self, _: Any) -> tuple[None, list[dict[str, Any]]]:
        return None, self.rows


def _by_email(*people: tuple[str, str | None, bool]) -> ClaimMapping:
    lookup = PeopleByEmail(_Directory(*people))  # type: ignore[arg-type]
    return ClaimMapping(person_claim="email", find_by_email=lookup)


def test_addresses_compare_as_ascii_never_as_unicode_look_alikes() -> None:
    mapping = _by_email(("kofi-mensah", "kofi-mensah@example.com", False))
    assert mapping.actor(_verified("Kofi-Mensah@Example.COM")).id == "kofi-mensah"
    for look_alike in (
        "\u212aofi-mensah@example.com",  # KELVIN SIGN, lower() gives "k"
        "kofi-mensah@exampl\u0435.com",  # a Cyrillic e
        "\uff4bofi-mensah@example.com",  # a fullwidth k (NFKC gives "k")
        "kofi-mensah@example.com\u0000",
    ):
        with pytest.raises(UnmappedTokenError, match="No one in the directory"):
            mapping.actor(_verified(look_alike))


def test_an_address_two_people_share_names_neither() -> None:
    mapping = _by_email(
        ("kofi-mensah", "kofi@example.com", False),
        ("kofi-2", "KOFI@example.com", False),
        ("ama", "ama@example.com", False),
        ("gone", "ama@example.com", True),  # erased: no longer anyone's address
    )
    with pytest.raises(UnmappedTokenError, match="Several people"):
        mapping.actor(_verified("kofi@example.com"))
    assert mapping.actor(_verified("ama@example.com")).id == "ama"
    assert mapping.find_by_email is not None
    assert mapping.find_by_email("kofi@example.com") is AMBIGUOUS


def test_a_upn_needs_no_email_verified_claim() -> None:
    mapping = ClaimMapping(person_claim="upn", find_by_email={"ada@corp.example": "E-1"}.get)
    assert mapping.actor({"upn": "ada@corp.example", "roles": ["HR"]}).id == "E-1"
