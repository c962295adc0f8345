"""SCIM Users over HTTP, on both databases: what an IdP reads and writes, each write the
directory command, every bad input a SCIM error that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from api.graphql.ids import global_id
from domain.values import Role
from tests.e2e.conftest import Api, serving
from tests.e2e.scim import CRAFTING, ENTERPRISE, Scim, error_of, integration, patch, user
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)

PERSON = """query($id: ID!, $p: Int) { person(id: $id, consistentWith: $p) { personId displayName email managerId
  manager { personId } teamId contractedHoursPerWeek active } }"""
CHANGES = """query($p: Int, $after: String) { changes(first: 100, after: $after, consistentWith: $p) {
  edges { node { position type streamType actorId actorRole payload } }
  pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
def scim(api: Api) -> Scim:
    return integration(api)


def _person(scim: Scim, pid: str) -> dict[str, Any]:
    hr = scim.api.token("hr-reader", Role.HR)
    data = scim.api.data(hr, PERSON, id=global_id("Person", pid), p=scim.api.position())
    person: dict[str, Any] = data["person"]
    return person


def _feed(scim: Scim, since: int) -> list[dict[str, Any]]:
    """The change feed after position `since` (the audit log's events, in commit
    order): the module's tests share one service, so earlier events are others'."""
    hr = scim.api.token("hr-reader", Role.HR)
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = scim.api.data(hr, CHANGES, p=scim.api.position(), after=after)["changes"]
        found += [e["node"] for e in page["edges"] if e["node"]["position"] > since]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def test_a_created_user_is_a_directory_person_with_every_mapped_attribute(scim: Scim) -> None:
    boss = scim.create("boss", department="eng")
    created = scim.create("ann", manager=boss["id"], department="qa", hours=32)
    pid = scim.id("ann")
    assert created["id"] == pid and created["userName"] == pid
    assert created[ENTERPRISE] == {
        "employeeNumber": f"n-{pid}",
        "department": "qa",
        "manager": {"value": boss["id"]},
    }
    assert created[CRAFTING] == {"contractedHoursPerWeek": 32}
    assert created["meta"]["version"].startswith('W/"')
    assert "name" not in created  # not kept: discovery does not offer it
    got = scim.get(pid)
    assert {k: v for k, v in got.items() if k != "meta"} == {
        k: v for k, v in created.items() if k != "meta"
    }
    assert got["meta"]["version"] == created["meta"]["version"]
    person = _person(scim, pid)
    assert person == {
        "personId": pid,
        "displayName": f"{pid.title()} Tester",
        "email": f"{pid}@example.com",
        "managerId": boss["id"],
        "manager": {"personId": boss["id"]},
        "teamId": "qa",
        "contractedHoursPerWeek": 32.0,
        "active": True,
    }


def test_every_scim_write_is_a_directory_event_with_the_integration_as_actor(
    scim: Scim,
) -> None:
    since = scim.api.position()
    pid = scim.create("bo")["id"]
    scim.ok("PATCH", f"/Users/{pid}", patch({"op": "replace", "path": "displayName", "value": "B"}))
    scim.ok("DELETE", f"/Users/{pid}")
    events = [e for e in _feed(scim, since) if e["streamType"] == "PERSON"]
    types = [e["type"] for e in events]
    # created; renamed; deleted = deactivated, then marked removed by the IdP
    assert types == [
        "Registered",
        "ProvisioningChanged",
        "ProfileChanged",
        "ProfileChanged",
        "ProvisioningChanged",
    ], types
    assert {(e["actorRole"], e["actorId"].split("-")[0]) for e in events} == {
        ("INTEGRATION", "okta")
    }


def test_repeating_a_write_records_nothing_new(scim: Scim) -> None:
    pid = scim.create("cy")["id"]
    body = user(pid, department="ops")
    first = scim.ok("PUT", f"/Users/{pid}", body)
    before = scim.api.position()
    again = scim.ok("PUT", f"/Users/{pid}", body)
    assert scim.api.position() == before
    assert again["meta"]["version"] == first["meta"]["version"]
    scim.ok("PATCH", f"/Users/{pid}", patch({"op": "replace", "path": "active", "value": True}))
    assert scim.api.position() == before


def test_a_report_provisioned_before_their_manager_resolves_when_the_manager_arrives(
    scim: Scim,
) -> None:
    boss = scim.id("late-boss")
    report = scim.create("early", manager=boss)
    assert report[ENTERPRISE]["manager"] == {"value": boss}
    assert _person(scim, report["id"])["manager"] is None
    scim.create("late-boss")
    assert _person(scim, report["id"])["manager"] == {"personId": boss}


def test_filters_find_users_by_user_name_external_id_email_and_active(scim: Scim) -> None:
    a = scim.create("fa", externalId="ext-a")["id"]
    b = scim.create("fb", externalId="ext-b")["id"]
    scim.ok("PATCH", f"/Users/{b}", patch({"op": "replace", "value": {"active": False}}))
    assert [u["id"] for u in scim.find(f'userName eq "{a}"')] == [a]
    assert [u["id"] for u in scim.find('externalId eq "ext-b"')] == [b]
    assert [u["id"] for u in scim.find(f'emails.value eq "{a.upper()}@EXAMPLE.COM"')] == [a]
    assert [u["id"] for u in scim.find(f'emails[value eq "{b}@example.com"]')] == [b]
    assert [u["id"] for u in scim.find("active eq false")] == [b]
    assert [u["id"] for u in scim.find('externalId eq "ext-a" and active eq true')] == [a]
    # Any other valid filter is answered too (matched by scim2-models).
    assert {u["id"] for u in scim.find(f'userName sw "f" and userName ew "{scim.s}"')} == {a, b}
    assert [u["id"] for u in scim.find(f'displayName co "{b.title()}"')] == [b]
    assert scim.find('userName eq "nobody"') == []
    employee_number = f'{ENTERPRISE}:employeeNumber eq "n-{a}"'
    assert [u["id"] for u in scim.find(employee_number)] == [a]


def test_creating_an_existing_user_name_is_a_uniqueness_conflict(scim: Scim) -> None:
    pid = scim.create("twice")["id"]
    before = scim.api.position()
    error = error_of(scim.request("POST", "/Users", user(pid, department="other")), 409)
    assert error["scimType"] == "uniqueness"
    assert scim.api.position() == before


def test_paging_attributes_and_excluded_attributes(scim: Scim) -> None:
    ids = sorted(scim.create(f"p{i}")["id"] for i in range(5))
    client, auth = scim.api.client, {"Authorization": f"Bearer {scim.token}"}
    query = {"filter": f'userName ew "{scim.s}"', "startIndex": "2", "count": "2"}
    page = client.get("/scim/v2/Users", params=query, headers=auth).json()
    assert page["totalResults"] == 5 and page["startIndex"] == 2
    assert [u["id"] for u in page["Resources"]] == ids[1:3]
    only = client.get(
        "/scim/v2/Users", params={**query, "attributes": "userName"}, headers=auth
    ).json()["Resources"][0]
    assert set(only) == {"schemas", "id", "userName"}
    without = client.get(
        f"/scim/v2/Users/{ids[0]}", params={"excludedAttributes": "emails"}, headers=auth
    ).json()
    assert "emails" not in without and without["userName"] == ids[0]


def test_patch_adds_replaces_and_removes_attributes_including_the_manager(scim: Scim) -> None:
    boss = scim.create("pboss")["id"]
    pid = scim.create("pat")["id"]
    scim.ok(
        "PATCH",
        f"/Users/{pid}",
        patch(
            {"op": "add", "path": f"{ENTERPRISE}:manager", "value": {"value": boss}},
            {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "sales"},
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"},
        ),
    )
    person = _person(scim, pid)
    assert (person["managerId"], person["teamId"], person["email"]) == (
        boss,
        "sales",
        "new@example.com",
    )
    scim.ok("PATCH", f"/Users/{pid}", patch({"op": "remove", "path": f"{ENTERPRISE}:manager"}))
    assert _person(scim, pid)["managerId"] is None


def test_delete_deactivates_hides_and_a_new_create_brings_the_person_back(scim: Scim) -> None:
    pid = scim.create("gone")["id"]
    response = scim.request("DELETE", f"/Users/{pid}")
    assert response.status_code == 204
    error_of(scim.request("GET", f"/Users/{pid}"), 404)
    assert scim.find(f'userName eq "{pid}"') == []
    person = _person(scim, pid)  # kept, inactive: history still reads
    assert person["active"] is False and person["displayName"] == f"{pid.title()} Tester"
    back = scim.ok("POST", "/Users", user(pid))
    assert back["active"] is True and _person(scim, pid)["active"] is True


def test_a_stale_if_match_is_refused_with_412_and_changes_nothing(scim: Scim) -> None:
    created = scim.create("etag")
    pid, version = created["id"], created["meta"]["version"]
    response = scim.request(
        "PUT", f"/Users/{pid}", user(pid, department="a"), headers={"If-Match": version}
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert response.headers["ETag"] == changed["meta"]["version"]
    assert changed["meta"]["version"] != version
    before = scim.api.position()
    stale = scim.request(
        "PUT", f"/Users/{pid}", user(pid, department="b"), headers={"If-Match": version}
    )
    error_of(stale, 412)
    stale_patch = scim.request(
        "PATCH",
        f"/Users/{pid}",
        patch({"op": "replace", "path": "displayName", "value": "X"}),
        headers={"If-Match": version},
    )
    error_of(stale_patch, 412)
    error_of(scim.request("DELETE", f"/Users/{pid}", headers={"If-Match": version}), 412)
    assert scim.api.position() == before
    assert scim.get(pid)[ENTERPRISE]["department"] == "a"


BAD_INPUTS = [
    ("POST", None, {"schemas": [ENTERPRISE]}, 400),  # not a User
    ("POST", None, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}, 400),
    ("POST", None, "not json at all", 400),
    ("POST", None, user("bad id with spaces"), 400),
    ("POST", None, user("x" * 129), 400),
    ("POST", None, {**user("nomail"), "emails": []}, 400),
    ("POST", None, {**user("badmail"), "emails": [{"value": "no-at-sign"}]}, 400),
    ("POST", None, user("neg", hours=-1), 400),
    ("POST", None, user("absurd", hours=10_000), 400),
    ("POST", None, user("ctl", displayName="a\u0000b"), 400),
    ("POST", "self-manager", None, 400),
    ("PUT", "rename", None, 400),
    ("PATCH", "bad-path", None, 400),
    ("PATCH", "bad-op", None, 400),
    ("GET", "bad-filter", None, 400),
    ("GET", "missing", None, 404),
]


@pytest.mark.parametrize(("method", "case", "body", "status"), BAD_INPUTS)
def test_bad_input_gets_a_scim_error_and_changes_nothing(
    scim: Scim, method: str, case: str | None, body: Any, status: int
) -> None:
    pid = scim.create("target")["id"]
    before = scim.api.position()
    path = "/Users"
    if case == "self-manager":
        body = user(scim.id("selfie"), manager=scim.id("selfie"))
    elif case == "rename":
        path, body = f"/Users/{pid}", user(scim.id("renamed"))
    elif case == "bad-path":
        path, body = f"/Users/{pid}", patch({"op": "replace", "path": "nosuch", "value": "x"})
    elif case == "bad-op":
        path, body = f"/Users/{pid}", patch({"op": "explode", "path": "active", "value": False})
    elif case == "bad-filter":
        path = '/Users?filter=userName%20eq%20"unterminated'
    elif case == "missing":
        path = "/Users/nobody-here"
    if isinstance(body, str):
        response = scim.api.client.request(
            method,
            f"/scim/v2{path}",
            content=body,
            headers={
                "Authorization": f"Bearer {scim.token}",
                "Content-Type": "application/scim+json",
            },
        )
    else:
        response = scim.request(method, path, body)
    error = error_of(response, status)
    if status == 400:
        assert error.get("scimType"), error
    assert scim.api.position() == before
    assert scim.get(pid)["active"] is True


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.MANAGER, Role.AUDITOR])
def test_roles_other_than_integration_and_hr_get_403_in_scim_format(api: Api, role: Role) -> None:
    owner = integration(api)
    pid = owner.create("victim")["id"]
    other = Scim(api, api.token(f"someone-{role}", role))
    before = api.position()
    for method, path, body in [
        ("GET", "/Users", None),
        ("GET", f"/Users/{pid}", None),
        ("POST", "/Users", user(other.id("intruder"))),
        ("PUT", f"/Users/{pid}", user(pid, active=False)),
        ("PATCH", f"/Users/{pid}", patch({"op": "replace", "path": "active", "value": False})),
        ("DELETE", f"/Users/{pid}", None),
        ("GET", "/Schemas", None),
        ("GET", "/ResourceTypes", None),
    ]:
        error = error_of(other.request(method, path, body), 403)
        assert "INTEGRATION" in error["detail"]
    assert api.position() == before


def test_hr_may_provision_and_no_or_a_bad_token_gets_401(api: Api) -> None:
    hr = Scim(api, api.token("hr-person", Role.HR))
    assert hr.create("by-hr")["active"] is True
    response = api.client.get("/scim/v2/Users")
    error_of(response, 401)
    forged = Scim(api, "not.a.token")
    error_of(forged.request("GET", "/Users"), 401)
    # The configuration is public (RFC 7643 §5): an IdP reads it before it has a token.
    assert api.client.get("/scim/v2/ServiceProviderConfig").status_code == 200


def test_an_idp_over_its_rate_gets_429_with_retry_after(tmp_path: Any) -> None:
    with serving(
        f"sqlite:///{tmp_path}/c.db", rate_limit_per_second=0.5, rate_limit_burst=2
    ) as api:
        idp = integration(api)
        assert [idp.request("GET", "/Users").status_code for _ in range(2)] == [200, 200]
        response = idp.request("GET", "/Users")
        error_of(response, 429)
        assert int(response.headers["Retry-After"]) >= 1


def test_an_erased_person_is_gone_for_scim_and_cannot_be_provisioned_again(scim: Scim) -> None:
    pid = scim.create("erased")["id"]
    kept = scim.create("kept")["id"]
    hr = scim.api.token("hr-eraser", Role.HR)
    erased = scim.api.data(
        hr,
        """mutation($input: ErasePersonInput!) { erasePerson(input: $input) {
        userErrors { code message } } }""",
        input={"personId": pid, "reason": "Right to erasure (GDPR art. 17)"},
    )
    assert erased["erasePerson"]["userErrors"] == []
    error_of(scim.request("GET", f"/Users/{pid}"), 404)
    error_of(scim.request("PUT", f"/Users/{pid}", user(pid)), 404)
    assert scim.find(f'userName eq "{pid}"') == []
    # A filter matched on opened data (names are sealed) skips them too.
    assert [u["id"] for u in scim.find(f'displayName co "Tester" and userName ew "{scim.s}"')] == [
        kept
    ]
    before = scim.api.position()
    again = error_of(scim.request("POST", "/Users", user(pid)), 409)
    assert again["scimType"] == "uniqueness" and "erased" in again["detail"]
    assert scim.api.position() == before
