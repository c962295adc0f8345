"""An agreement's outcome on GraphQL's `Agreement`: the one in effect and every one
recorded, read from the read models (and the same after a rebuild)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.world import World

FIELDS = """id kind achievedOn reason recordedBy recordedAt version reverted revertedBy
  revertedAt revertReason"""
RECORD = f"""mutation($input: RecordOutcomeInput!) {{ recordOutcome(input: $input) {{
  agreement {{ version outcome {{ {FIELDS} }} }} position userErrors {{ field code }} }} }}"""
REVERT = f"""mutation($input: RevertOutcomeInput!) {{ revertOutcome(input: $input) {{
  agreement {{ version outcome {{ kind }} outcomes {{ {FIELDS} }} }} position
  userErrors {{ field code }} }} }}"""
COMPLETE = """mutation($input: AgreementCommandInput!) { completeAgreement(input: $input) {
  agreement { version } userErrors { code } } }"""
READ = f"""query($id: ID!, $p: Int) {{ agreement(id: $id, consistentWith: $p) {{
  version status outcome {{ {FIELDS} }} outcomes {{ {FIELDS} }} }} }}"""


def _read(api: Api, token: str, aid: str) -> dict[str, Any]:
    found: dict[str, Any] = api.data(token, READ, id=aid, p=api.position())["agreement"]
    return found


def test_the_outcome_in_effect_and_every_one_recorded_are_on_the_agreement(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    assert _read(api, w.employee, aid)["outcome"] is None
    assert _read(api, w.employee, aid)["outcomes"] == []
    done = api.data(w.manager, COMPLETE, input={"agreementId": aid})["completeAgreement"]
    assert done["userErrors"] == []
    earlier = (date.today() - timedelta(days=3)).isoformat()
    stopped = api.data(
        w.manager,
        RECORD,
        input={
            "agreementId": aid,
            "kind": "STOPPED",
            "achievedOn": earlier,
            "reason": "Chose to stay in QA",
        },
    )["recordOutcome"]
    assert stopped["userErrors"] == []
    # The payload is built from the agreement itself: who, when and the version, no reason.
    paid = stopped["agreement"]["outcome"]
    assert (paid["kind"], paid["achievedOn"], paid["recordedBy"]) == (
        "STOPPED",
        earlier,
        w.ids["mgr"],
    )
    assert paid["version"] == stopped["agreement"]["version"] and paid["reason"] is None

    read = _read(api, w.employee, aid)
    first = read["outcome"]
    assert first["kind"] == "STOPPED" and first["reason"] == "Chose to stay in QA"
    assert first["recordedBy"] == w.ids["mgr"] and first["achievedOn"] == earlier
    assert first["version"] == read["version"] and first["reverted"] is False
    assert first["recordedAt"] and first["revertedBy"] is None
    assert {k: v for k, v in paid.items() if k != "reason"} == {
        k: v for k, v in first.items() if k != "reason"
    }

    # HR records a later move over it; the manager reverts the move: the stop is back.
    moved = api.data(w.hr, RECORD, input={"agreementId": aid, "kind": "MOVED_TO_TARGET_ROLE"})[
        "recordOutcome"
    ]
    assert moved["userErrors"] == []
    assert _read(api, w.manager, aid)["outcome"]["kind"] == "MOVED_TO_TARGET_ROLE"
    reverted = api.data(
        w.manager, REVERT, input={"agreementId": aid, "reason": "Recorded on the wrong plan"}
    )["revertOutcome"]
    assert reverted["userErrors"] == []
    assert reverted["agreement"]["outcome"] == {"kind": "STOPPED"}

    read = _read(api, w.auditor, aid)
    assert read["outcome"] == first
    assert [(o["kind"], o["reverted"]) for o in read["outcomes"]] == [
        ("STOPPED", False),
        ("MOVED_TO_TARGET_ROLE", True),
    ]
    move = read["outcomes"][1]
    assert (move["recordedBy"], move["revertedBy"]) == (w.ids["hr"], w.ids["mgr"])
    assert move["revertReason"] == "Recorded on the wrong plan" and move["revertedAt"]
    assert move["version"] == reverted["agreement"]["version"] - 1
    # The payload's history is the agreement's own: the same, without the reasons.
    assert [
        {k: v for k, v in o.items() if k not in ("reason", "revertReason")}
        for o in reverted["agreement"]["outcomes"]
    ] == [
        {k: v for k, v in o.items() if k not in ("reason", "revertReason")}
        for o in read["outcomes"]
    ]

    # Those who may not read the agreement do not see its outcome either.
    assert api.gql(w.stranger, READ, id=aid)["data"]["agreement"] is None

    # A rebuild from the events gives the same.
    api.container.rebuild()
    assert _read(api, w.auditor, aid) == read
