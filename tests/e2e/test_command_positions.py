"""The `position` a mutation answers with is the agreement's last event, so filtering
`auditLog` by the agreement finds it — also for commands that book hours in the
ledgers after the agreement's event (`lastPosition` covers those)."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.world import World

REALLOCATE = """mutation($input: ReallocateTaskInput!) { reallocateTask(input: $input) {
  agreement { id version reallocations { changeId status } } position lastPosition replayed
  userErrors { field message code } } }"""
REVERT = """mutation($input: RevertChangeInput!) { revertChange(input: $input) {
  agreement { id version } position lastPosition replayed userErrors { field message code } } }"""
AUDIT = """query($id: ID!, $p: Int) {
  auditLog(first: 100, filter: {agreementId: $id}, consistentWith: $p) {
    edges { node { position version type } } } }"""
FEED = """query($p: Int) { changes(first: 100, consistentWith: $p) {
  edges { node { position streamType } } } }"""
WORKLOAD = """query($t: String!, $p: Int) { teamWorkload(teamId: $t, consistentWith: $p) {
  members { personId hoursReceivedPerWeek } } }"""


def _audit(api: Api, w: World, agreement_id: str, position: int) -> list[dict[str, Any]]:
    edges = api.data(w.auditor, AUDIT, id=agreement_id, p=position)["auditLog"]["edges"]
    return [e["node"] for e in edges]


def test_reallocate_and_revert_answer_with_the_agreements_own_position(api: Api) -> None:
    w = World(api)
    agreement = w.active()
    aid = agreement["id"]
    moved = api.data(
        w.manager,
        REALLOCATE,
        input={
            "agreementId": aid,
            "task": "Regression triage",
            "hoursPerWeek": 2,
            "toPersonId": w.ids["mate"],
            "reason": "Frees time for discovery work",
            "idempotencyKey": "move-1",
        },
    )["reallocateTask"]
    assert moved["userErrors"] == []
    # The ledgers' bookings were recorded after the agreement's event, in one insert.
    assert moved["lastPosition"] > moved["position"]
    log = _audit(api, w, aid, moved["position"])
    mine = [e for e in log if e["position"] == moved["position"]]
    assert [(e["type"], e["version"]) for e in mine] == [
        ("TaskReallocated", moved["agreement"]["version"])
    ]
    # A replay answers with the same position as the first call.
    again = api.data(
        w.manager,
        REALLOCATE,
        input={
            "agreementId": aid,
            "task": "Regression triage",
            "hoursPerWeek": 2,
            "toPersonId": w.ids["mate"],
            "reason": "Frees time for discovery work",
            "idempotencyKey": "move-1",
        },
    )["reallocateTask"]
    assert again["replayed"] is True and again["position"] == moved["position"]
    # lastPosition is the command's last event: the receiver's hours-ledger booking.
    feed = api.data(w.hr, FEED, p=moved["lastPosition"])["changes"]["edges"]
    (last,) = [e["node"] for e in feed if e["node"]["position"] == moved["lastPosition"]]
    assert last["streamType"] == "LEDGER"
    members = api.data(w.manager, WORKLOAD, t=w.team, p=moved["position"])["teamWorkload"]
    received = {m["personId"]: m["hoursReceivedPerWeek"] for m in members["members"]}
    assert received[w.ids["mate"]] == 2

    (change,) = moved["agreement"]["reallocations"]
    reverted = api.data(
        w.manager,
        REVERT,
        input={"agreementId": aid, "changeId": change["changeId"], "reason": "Back to Sam"},
    )["revertChange"]
    assert reverted["userErrors"] == []
    assert reverted["lastPosition"] > reverted["position"]
    log = _audit(api, w, aid, reverted["position"])
    assert reverted["position"] in {e["position"] for e in log}
    assert log[0]["position"] == reverted["position"]  # newest first: the revert
    members = api.data(w.manager, WORKLOAD, t=w.team, p=reverted["position"])["teamWorkload"]
    received = {m["personId"]: m["hoursReceivedPerWeek"] for m in members["members"]}
    assert received[w.ids["mate"]] == 0
