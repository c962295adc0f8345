"""Provisioning sequences replayed as Okta and Microsoft Entra ID send them (bodies as in
their SCIM 2.0 documentation: Okta updates profiles with PUT and (de)activates with
PATCH; Entra patches single paths with capitalised ops, string booleans and a bare
manager id), on both databases. Each step is checked in the directory itself."""

from __future__ import annotations

from typing import Any

from api.graphql.ids import global_id
from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.scim import CORE, ENTERPRISE, PATCH_OP, Scim, integration

PERSON = """query($id: ID!, $p: Int) { person(id: $id, consistentWith: $p) { personId
  displayName email managerId teamId active } }"""


def _person(scim: Scim, pid: str) -> dict[str, Any]:
    hr = scim.api.token("hr-reader", Role.HR)
    data = scim.api.data(hr, PERSON, id=global_id("Person", pid), p=scim.api.position())
    person: dict[str, Any] = data["person"]
    return person


def _okta_user(user_name: str, given: str, manager: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [CORE, ENTERPRISE],
        "userName": user_name,
        "name": {"givenName": given, "familyName": "Okta"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": f"{given} Okta",
        "locale": "en-US",
        "externalId": f"00u{given.lower()}",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
        ENTERPRISE: {"department": "Engineering"},
    }
    if manager is not None:
        body[ENTERPRISE]["manager"] = {"value": manager, "displayName": "Boss"}
    return body


def _okta_active(active: bool) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": active}}]}


def test_an_okta_provisioning_sequence(api: Api) -> None:
    okta = integration(api, "okta")
    boss, other = f"boss.{okta.s}@example.com", f"other.{okta.s}@example.com"
    dawn = f"dawn.{okta.s}@example.com"
    for pid, given in ((boss, "Bea"), (other, "Oli")):
        okta.ok("POST", "/Users", _okta_user(pid, given))
    # Okta looks the user up before creating it.
    assert okta.find(f'userName eq "{dawn}"') == []
    created = okta.ok("POST", "/Users", _okta_user(dawn, "Dawn", manager=boss))
    assert created["id"] == dawn and created["externalId"] == "00udawn"
    assert okta.find(f'userName eq "{dawn}"')[0]["id"] == dawn
    assert _person(okta, dawn)["managerId"] == boss
    # Profile push: the whole user with PUT (new name, new manager).
    changed = _okta_user(dawn, "Dawnie", manager=other)
    okta.ok("PUT", f"/Users/{dawn}", {**changed, "id": dawn})
    person = _person(okta, dawn)
    assert (person["displayName"], person["managerId"]) == ("Dawnie Okta", other)
    # Deactivate, then reactivate.
    assert okta.ok("PATCH", f"/Users/{dawn}", _okta_active(False))["active"] is False
    assert _person(okta, dawn)["active"] is False
    assert okta.get(dawn)["active"] is False  # Okta reads deactivated users back
    assert okta.ok("PATCH", f"/Users/{dawn}", _okta_active(True))["active"] is True
    assert _person(okta, dawn)["active"] is True


def _entra_op(op: str, path: str, value: Any = None) -> dict[str, Any]:
    operation = {"op": op, "path": path}
    if value is not None:
        operation["value"] = value
    return {"schemas": [PATCH_OP], "Operations": [operation]}


def _entra_user(pid: str, name: str) -> dict[str, Any]:
    return {
        "schemas": [CORE, ENTERPRISE],
        "externalId": pid,
        "userName": pid,
        "active": True,
        "addresses": [{"primary": True, "type": "work", "locality": "Paris"}],
        "displayName": f"{name} Entra",
        "emails": [{"primary": True, "type": "work", "value": f"{pid}@contoso.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{name} Entra", "familyName": "Entra", "givenName": name},
        "title": "Tester",
        ENTERPRISE: {"employeeNumber": "1001", "department": "QA"},
    }


def test_an_entra_provisioning_sequence(api: Api) -> None:
    entra = integration(api, "entra")
    lead, new_lead, eve = entra.id("lead"), entra.id("newlead"), entra.id("eve")
    # Entra sends a report before their manager when its scope says so.
    assert entra.find(f'userName eq "{eve}"') == []
    entra.ok("POST", "/Users", _entra_user(eve, "Eve"))
    manager_path = f"{ENTERPRISE}:manager"
    entra.ok("PATCH", f"/Users/{eve}", _entra_op("Add", manager_path, lead))
    assert _person(entra, eve)["managerId"] == lead
    for pid, name in ((lead, "Lea"), (new_lead, "Neo")):
        entra.ok("POST", "/Users", _entra_user(pid, name))
    # Attribute changes, one path each.
    entra.ok(
        "PATCH",
        f"/Users/{eve}",
        {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "displayName", "value": "Eve Renamed"},
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": f"eve.{entra.s}@contoso.com",
                },
                {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Platform"},
            ],
        },
    )
    person = _person(entra, eve)
    assert (person["displayName"], person["email"], person["teamId"]) == (
        "Eve Renamed",
        f"eve.{entra.s}@contoso.com",
        "Platform",
    )
    # Manager change, then removal.
    entra.ok("PATCH", f"/Users/{eve}", _entra_op("Replace", manager_path, new_lead))
    assert _person(entra, eve)["managerId"] == new_lead
    entra.ok("PATCH", f"/Users/{eve}", _entra_op("Remove", manager_path))
    assert _person(entra, eve)["managerId"] is None
    # Disable and enable: Entra sends the boolean as text.
    entra.ok("PATCH", f"/Users/{eve}", _entra_op("Replace", "active", "False"))
    assert _person(entra, eve)["active"] is False
    entra.ok("PATCH", f"/Users/{eve}", _entra_op("Replace", "active", "True"))
    assert _person(entra, eve)["active"] is True
    # Hard delete after the soft-delete period: deprovisioned, kept on record.
    assert entra.request("DELETE", f"/Users/{eve}").status_code == 204
    assert entra.request("GET", f"/Users/{eve}").status_code == 404
    assert _person(entra, eve)["active"] is False
