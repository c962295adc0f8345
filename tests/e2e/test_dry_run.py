"""`revertToVersion(dryRun: true)` judges the revert and tells what it would revert,
recording nothing; the real revert then reverts exactly that."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.world import World

ADD = """mutation($input: AddAdjustmentInput!) { addAdjustment(input: $input) {
  agreement { version adjustments { changeId } } userErrors { code } } }"""
REVERT = """mutation($input: RevertToVersionInput!) { revertToVersion(input: $input) {
  agreement { version adjustments { description status } }
  wouldRevert { changeId kind subjectId } position userErrors { code field } } }"""


def _revert(api: Api, w: World, aid: str, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = api.data(
        w.manager,
        REVERT,
        input={"agreementId": aid, "version": 2, "reason": "Back to the plan", **extra},
    )["revertToVersion"]
    return payload


def test_a_dry_run_tells_what_it_would_revert_and_records_nothing(api: Api) -> None:
    w = World(api)
    agreement = w.active()  # versions 1 (proposed) and 2 (approved)
    aid = agreement["id"]
    added = []
    for text in ("Shadow the PM", "Run a customer interview"):
        result = api.data(
            w.manager,
            ADD,
            input={
                "agreementId": aid,
                "adjustment": {"kind": "TASK", "description": text, "hoursPerWeek": 1},
            },
        )["addAdjustment"]
        assert result["userErrors"] == []
        before = {a["changeId"] for a in agreement["adjustments"]} | set(added)
        (new,) = [
            a["changeId"] for a in result["agreement"]["adjustments"] if a["changeId"] not in before
        ]
        added.append(new)
    position = api.position()

    dry = _revert(api, w, aid, dryRun=True)
    assert dry["userErrors"] == []
    assert sorted(c["changeId"] for c in dry["wouldRevert"]) == sorted(added)
    assert {c["kind"] for c in dry["wouldRevert"]} == {"ADJUSTMENT_ADDED"}
    assert dry["agreement"]["version"] == 6  # what it would be: two reverts after 4
    assert api.position() == position  # nothing recorded
    assert dry["position"] == position
    refused = _revert(api, w, aid, dryRun=True, version=99)
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_INPUT"]
    assert api.position() == position

    done = _revert(api, w, aid)
    assert done["wouldRevert"] is None
    assert done["agreement"]["version"] == 6
    statuses = {a["description"]: a["status"] for a in done["agreement"]["adjustments"]}
    assert statuses["Shadow the PM"] == statuses["Run a customer interview"] == "REVERTED"
    assert api.position() > position
