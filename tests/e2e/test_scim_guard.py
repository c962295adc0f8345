"""The mass-deactivation guard over HTTP, on both databases: an IdP deactivating 30% of
the directory within the hour gets the excess held (reported to HR), and HR's
confirmation applies it."""

from __future__ import annotations

from typing import Any

from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.scim import error_of, integration, patch

HELD = """query { heldDeactivations { personId heldAt person { personId active } } }"""
CONFIRM = """mutation($input: DeactivationWaveInput) { confirmDeactivations(input: $input) {
  people { personId active } position replayed userErrors { code message } } }"""
DISMISS = """mutation { dismissDeactivations { people { personId active }
  userErrors { code } } }"""


def _deactivate(scim: Any, pid: str, how: str) -> int:
    if how == "delete":
        return int(scim.request("DELETE", f"/Users/{pid}").status_code)
    body = patch({"op": "replace", "path": "active", "value": False})
    return int(scim.request("PATCH", f"/Users/{pid}", body).status_code)


def test_a_thirty_percent_wave_is_held_and_applied_after_hr_confirms(api: Api) -> None:
    scim = integration(api)
    ids = [scim.create(f"w{i:02}")["id"] for i in range(20)]
    hr = api.token("hr-lead", Role.HR)
    # Six of twenty (30%): the first four (20%) pass, the rest is held.
    statuses = [
        _deactivate(scim, pid, "delete" if i % 2 else "patch") for i, pid in enumerate(ids[:6])
    ]
    assert statuses == [200, 204, 200, 204, 202, 202], statuses
    held = error_of(
        scim.request(
            "PATCH", f"/Users/{ids[4]}", patch({"op": "replace", "path": "active", "value": False})
        ),
        202,
    )
    assert "held" in held["detail"] and "HR" in held["detail"]
    assert [scim.get(pid)["active"] for pid in ids[4:6]] == [True, True]
    report = api.data(hr, HELD)["heldDeactivations"]
    assert [h["personId"] for h in report] == ids[4:6]
    assert all(h["person"]["active"] for h in report)
    # Nobody else may decide on the wave, not even the integration that sent it.
    refused = api.gql(scim.token, CONFIRM, input={"reason": "mine"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert api.data(api.token("auditor", Role.AUDITOR), HELD)["heldDeactivations"] == report
    # A decision on the people HR was shown is refused once the wave is not them.
    stale = api.data(hr, CONFIRM, input={"reason": "Reorganisation", "personIds": ids[4:5]})
    assert [e["code"] for e in stale["confirmDeactivations"]["userErrors"]] == ["VERSION_CONFLICT"]
    assert api.data(hr, HELD)["heldDeactivations"] == report
    confirmed = api.data(
        hr,
        CONFIRM,
        input={"reason": "Reorganisation", "idempotencyKey": "k1", "personIds": ids[4:6]},
    )
    payload = confirmed["confirmDeactivations"]
    assert payload["userErrors"] == []
    assert payload["people"] == [{"personId": pid, "active": False} for pid in ids[4:6]]
    again = api.data(
        hr,
        CONFIRM,
        input={"reason": "Reorganisation", "idempotencyKey": "k1", "personIds": ids[4:6]},
    )
    assert again["confirmDeactivations"]["replayed"] is True
    assert api.data(hr, HELD)["heldDeactivations"] == []
    assert scim.get(ids[4])["active"] is False
    assert [u["id"] for u in scim.find("active eq true")] == ids[6:]
    # The guard's counts and holds are on record, like every other directory event.
    log = api.data(
        hr,
        """query($p: Int) { auditLog(first: 50, order: OLDEST_FIRST, consistentWith: $p,
        filter: {types: ["DeactivationsCounted", "DeactivationsHeld", "HoldReleased"]}) {
        edges { node { streamType type actorRole payload } } } }""",
        p=api.position(),
    )["auditLog"]["edges"]
    assert [(e["node"]["streamType"], e["node"]["type"]) for e in log] == [
        ("DIRECTORY", "DeactivationsCounted")
    ] * 4 + [("DIRECTORY", "DeactivationsHeld")] * 2 + [("DIRECTORY", "HoldReleased")]
    assert log[-1]["node"]["actorRole"] == "HR"
    assert log[-1]["node"]["payload"]["personIds"] == ids[4:6]


def test_hr_may_dismiss_a_held_wave_and_the_people_stay_active(api: Api) -> None:
    scim = integration(api)
    ids = [scim.create(f"d{i:02}")["id"] for i in range(5)]
    hr = api.token("hr-lead", Role.HR)
    # Five people: three pass (the minimum wave), the fourth and fifth are held.
    assert [_deactivate(scim, pid, "patch") for pid in ids[:5]] == [200, 200, 200, 202, 202]
    dismissed = api.data(hr, DISMISS)["dismissDeactivations"]
    assert dismissed["people"] == [{"personId": pid, "active": True} for pid in ids[3:]]
    assert [scim.get(pid)["active"] for pid in ids[3:]] == [True, True]
    assert api.data(hr, HELD)["heldDeactivations"] == []
