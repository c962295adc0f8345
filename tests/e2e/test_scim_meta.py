"""SCIM Users as RFC 7643 describes them: `active` is optional (a new user without it is
active, a replace without it keeps it, and /Schemas says so), and every User carries
`meta.created` and `meta.lastModified` (§3.1), from the directory's own events."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from api.graphql.ids import global_id
from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.scim import ENTERPRISE, Scim, error_of, integration, patch, user
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)

PERSON = """query($id: ID!, $p: Int) { person(id: $id, consistentWith: $p) { active } }"""
REGISTERED = """query($p: Int) { auditLog(first: 100, consistentWith: $p,
  filter: {types: ["Registered"]}) { edges { node { streamId recordedAt payload } } } }"""


@pytest.fixture
def scim(api: Api) -> Scim:
    return integration(api)


def _active(scim: Scim, pid: str) -> bool:
    hr = scim.api.token("hr-reader", Role.HR)
    data = scim.api.data(hr, PERSON, id=global_id("Person", pid), p=scim.api.position())
    active: bool = data["person"]["active"]
    return active


def _without_active(pid: str, **kw: Any) -> dict[str, Any]:
    body = user(pid, **kw)
    del body["active"]
    return body


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_user_created_without_active_is_active_and_a_replace_without_it_keeps_it(
    scim: Scim,
) -> None:
    pid = scim.id("noflag")
    created = scim.ok("POST", "/Users", _without_active(pid))
    assert created["active"] is True and _active(scim, pid) is True
    scim.ok("PATCH", f"/Users/{pid}", patch({"op": "replace", "path": "active", "value": False}))
    assert _active(scim, pid) is False
    replaced = scim.ok("PUT", f"/Users/{pid}", _without_active(pid, department="ops"))
    assert replaced["active"] is False and _active(scim, pid) is False
    assert replaced[ENTERPRISE]["department"] == "ops"
    # Discovery tells identity providers the same: `active` is not required.
    schemas = scim.ok("GET", "/Schemas")["Resources"]
    (core,) = [s for s in schemas if s["id"].endswith(":core:2.0:User")]
    (active,) = [a for a in core["attributes"] if a["name"] == "active"]
    assert active["required"] is False


def test_every_user_carries_when_it_was_created_and_last_modified(scim: Scim) -> None:
    created = scim.create("meta")
    pid = created["id"]
    meta = created["meta"]
    assert {"created", "lastModified"} <= set(meta), meta
    assert _instant(meta["created"]) <= _instant(meta["lastModified"])
    # meta.created is when the directory registered the person: its Registered event.
    hr = scim.api.token("hr-reader", Role.HR)
    events = scim.api.data(hr, REGISTERED, p=scim.api.position())["auditLog"]["edges"]
    (registered,) = [e["node"] for e in events if e["node"]["payload"]["personId"] == pid]
    assert _instant(registered["recordedAt"]) == _instant(meta["created"])
    got = scim.get(pid)
    assert (got["meta"]["created"], got["meta"]["lastModified"]) == (
        meta["created"],
        meta["lastModified"],
    )
    (listed,) = scim.find(f'userName eq "{pid}"')
    assert listed["meta"]["created"] == meta["created"]
    time.sleep(0.01)
    changed = scim.ok(
        "PATCH",
        f"/Users/{pid}",
        patch({"op": "replace", "path": f"{ENTERPRISE}:department", "value": "ops"}),
    )
    assert changed["meta"]["created"] == meta["created"]
    assert _instant(changed["meta"]["lastModified"]) > _instant(meta["lastModified"])
    reread = scim.get(pid)
    assert reread["meta"]["created"] == meta["created"]
    assert reread["meta"]["lastModified"] == changed["meta"]["lastModified"]


def test_a_created_user_without_active_counts_for_hr_too(api: Api) -> None:
    hr = Scim(api, api.token("hr-provisioner", Role.HR))
    pid = hr.id("viahr")
    assert hr.ok("POST", "/Users", _without_active(pid))["active"] is True


def test_removing_active_is_refused_and_changes_nothing(scim: Scim) -> None:
    pid = scim.create("keepflag")["id"]
    before = scim.api.position()
    response = scim.request("PATCH", f"/Users/{pid}", patch({"op": "remove", "path": "active"}))
    body = error_of(response, 400)
    assert body["scimType"] == "mutability" and "active" in body["detail"]
    assert scim.api.position() == before and _active(scim, pid) is True
