"""The crafting sketch over GraphQL on both databases: `setSketch` with userErrors,
expected versions and idempotency keys; `Agreement.sketch` from the read model, the
payload and time travel; reverts; the audit log; sealed at rest and erased with the
person."""

from __future__ import annotations

from html import unescape
from typing import Any
from uuid import uuid4

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.test_erasure import hits
from tests.e2e.web import hidden_fields, sign_in
from tests.e2e.world import World

SKETCH_FIELDS = """sketch { before { id name share energy }
  after { id name share energy move fromBlockId adjustmentId reallocationId skill }
  dropped { id name } relationships { id kind personId name note } purpose
  developmentShare developmentReason }"""
SET = (
    """mutation($input: SetSketchInput!) { setSketch(input: $input) {
  agreement { version changes { changeId kind inEffect } """
    + SKETCH_FIELDS
    + """ } position replayed userErrors { field message code } } }"""
)
READ = "query($id: ID!) { agreement(id: $id) { version " + SKETCH_FIELDS + " } }"
AT = "query($id: ID!, $v: Int) { agreementAt(id: $id, version: $v) { " + SKETCH_FIELDS + " } }"
REVERT = """mutation($input: RevertChangeInput!) { revertChange(input: $input) {
  agreement { version sketch { purpose } } userErrors { code message } } }"""
AUDIT = """query($id: ID!) { auditLog(first: 50, filter: {agreementId: $id}) {
  edges { node { type actorId payload } } } }"""
ERASE = """mutation($input: ErasePersonInput!) { erasePerson(input: $input) {
  userErrors { code } } }"""


def _sketch(agreement: dict[str, Any], purpose: str, moved: float = 5) -> dict[str, Any]:
    """Testing gives `moved` percent of the week to customer research (the adjustment
    of 2 hours of 40: 5%)."""
    adjustment = agreement["adjustments"][0]["id"]
    return {
        "before": [
            {"id": "testing", "name": "Regression testing", "share": 70, "energy": "DRAINING"},
            {"id": "triage", "name": "Bug triage", "share": 30, "energy": "NEUTRAL"},
        ],
        "after": [
            {
                "name": "Regression testing",
                "share": 70 - moved,
                "energy": "NEUTRAL",
                "fromBlockId": "testing",
            },
            {"name": "Bug triage", "share": 0, "energy": "NEUTRAL", "fromBlockId": "triage"},
            {"name": "Triage with product", "share": 30, "energy": "ENERGISING"},
            {
                "name": "Customer interviews",
                "share": moved,
                "energy": "ENERGISING",
                "adjustmentId": adjustment,
                "skill": "customer research",
            },
        ],
        "relationships": [
            {"kind": "MENTOR", "name": "A product lead in another unit"},
            {"kind": "SHADOWING", "personId": agreement["_mate"], "note": "Two sprint reviews"},
        ],
        "purpose": purpose,
    }


def _set(w: World, agreement: dict[str, Any], sketch: dict[str, Any], **extra: Any) -> Any:
    return w.api.data(
        w.employee, SET, input={"agreementId": agreement["id"], "sketch": sketch, **extra}
    )["setSketch"]


def test_the_sketch_is_drawn_read_reverted_and_travelled_through(api: Api) -> None:
    w = World(api)
    agreement = {**w.active(), "_mate": w.ids["mate"]}
    purpose = f"Help customers get releases they trust {w.s}"
    key = str(uuid4())
    payload = _set(
        w,
        agreement,
        _sketch(agreement, purpose),
        idempotencyKey=key,
        expectedVersion=agreement["version"],
    )
    assert payload["userErrors"] == [], payload
    drawn = payload["agreement"]["sketch"]
    assert [b["move"] for b in drawn["after"]] == ["RESIZED", "DROPPED", "ADDED", "ADDED"]
    assert drawn["developmentShare"] == 5
    assert drawn["after"][3]["skill"] == "customer research"
    assert drawn["relationships"][1]["personId"] == w.ids["mate"]
    assert drawn["purpose"] == purpose

    # The same key again: the first answer, nothing recorded.
    position = api.position()
    again = _set(
        w,
        agreement,
        _sketch(agreement, purpose),
        idempotencyKey=key,
        expectedVersion=agreement["version"],
    )
    assert again["replayed"] is True and api.position() == position
    # An old expected version: refused.
    stale = _set(w, agreement, _sketch(agreement, "other"), expectedVersion=agreement["version"])
    assert [e["code"] for e in stale["userErrors"]] == ["VERSION_CONFLICT"]

    w.sync()
    read = _read_when(w, agreement, payload["agreement"]["version"])
    assert read["sketch"] == drawn

    second = _set(w, agreement, {**_sketch(agreement, "Second thoughts")})
    assert second["userErrors"] == []
    change = [c for c in second["agreement"]["changes"] if c["kind"] == "SKETCH_CHANGED"][-1]
    back = w.api.data(
        w.manager,
        REVERT,
        input={"agreementId": agreement["id"], "changeId": change["changeId"], "reason": "no"},
    )["revertChange"]
    assert back["userErrors"] == [] and back["agreement"]["sketch"]["purpose"] == purpose
    w.sync()
    reverted = _read_when(w, agreement, back["agreement"]["version"])
    assert reverted["sketch"] == drawn

    at = w.api.data(w.auditor, AT, id=agreement["id"], v=second["agreement"]["version"])
    assert at["agreementAt"]["sketch"]["purpose"] == "Second thoughts"
    first = w.api.data(w.auditor, AT, id=agreement["id"], v=agreement["version"])
    assert first["agreementAt"]["sketch"] is None

    log = w.api.data(w.auditor, AUDIT, id=agreement["id"])["auditLog"]["edges"]
    drawn_events = [e["node"] for e in log if e["node"]["type"] == "SketchChanged"]
    assert len(drawn_events) == 2
    assert all(e["actorId"] == w.ids["emp"] for e in drawn_events)


def _read_when(w: World, agreement: dict[str, Any], version: int) -> dict[str, Any]:
    read: dict[str, Any] = w.api.data(w.manager, READ, id=agreement["id"])["agreement"]
    assert read["version"] == version
    return read


def test_a_sketch_that_breaks_its_rules_is_refused_with_user_errors(api: Api) -> None:
    w = World(api)
    agreement = {**w.active(), "_mate": w.ids["mate"]}
    position = api.position()
    uneven = _sketch(agreement, "p")
    uneven["after"][0]["share"] = 50
    refused = _set(w, agreement, uneven)
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("INVALID_INPUT", "after")]
    assert "after crafting take 85% of the week" in refused["userErrors"][0]["message"]
    too_much = _sketch(agreement, "p", moved=20)  # 20% of the week, but 2 h are 5%
    refused = _set(w, agreement, too_much)
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", "developmentReason")
    ]
    unknown = _sketch(agreement, "p")
    unknown["relationships"][1]["personId"] = f"nobody-{w.s}"
    refused = _set(w, agreement, unknown)
    assert [e["code"] for e in refused["userErrors"]] == ["UNKNOWN_PERSON"]
    assert api.position() == position
    # Said why: accepted.
    explained = _set(w, agreement, {**too_much, "developmentReason": "A pilot month"})
    assert explained["userErrors"] == []
    assert explained["agreement"]["sketch"]["developmentShare"] == 20


def test_the_sketch_is_sealed_at_rest_and_erased_with_the_person(api: Api) -> None:
    w = World(api)
    agreement = {**w.active(), "_mate": w.ids["mate"]}
    secret = f"Purpose-{w.s} of my work"
    sketch = _sketch(agreement, secret)
    sketch["before"][0]["name"] = f"Block-{w.s}"
    assert _set(w, agreement, sketch)["userErrors"] == []
    events_table = api.container.app.recorder.events_table_name  # type: ignore[attr-defined]
    assert hits(api, [secret, f"Block-{w.s}"], [events_table]) == {}
    w.sync()
    assert api.data(w.manager, READ, id=agreement["id"])["agreement"]["sketch"]["purpose"] == secret

    erased = api.data(w.hr, ERASE, input={"personId": w.ids["emp"], "reason": "Art. 17"})
    assert erased["erasePerson"]["userErrors"] == []
    w.sync()
    read = api.data(w.hr, READ, id=agreement["id"])["agreement"]["sketch"]
    assert read["purpose"] == "[erased]"
    assert read["before"][0]["name"] == "[erased]"
    assert read["relationships"][0]["name"] == "[erased]"
    assert hits(api, [secret, f"Block-{w.s}"]) == {}


def test_the_pages_show_sketch_changes_to_revert_and_the_sketch_as_it_was(api: Api) -> None:
    w = World(api)
    agreement = {**w.active(), "_mate": w.ids["mate"]}
    drawn = _set(w, agreement, _sketch(agreement, "First purpose"))
    assert drawn["userErrors"] == []
    redrawn = _set(w, agreement, _sketch(agreement, "Second purpose"))
    assert redrawn["userErrors"] == []
    w.sync()
    aid = str(agreement_uuid(agreement["id"]))
    manager = sign_in(api.client, api.secret, w.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    page = manager.get(f"/agreements/{aid}")
    assert page.status_code == 200, page.text
    assert "Crafting sketch drawn" in page.text and "Crafting sketch redrawn" in page.text
    assert "Second purpose" in page.text and "Edit the sketch" not in page.text
    preview = manager.get(f"/agreements/{aid}/revert-to?version={agreement['version']}")
    assert preview.status_code == 200 and "Crafting sketch redrawn" in preview.text
    then = manager.get(f"/agreements/{aid}/as-of?version={drawn['agreement']['version']}")
    assert then.status_code == 200 and "First purpose" in then.text
    assert "Second purpose" not in then.text


def test_the_editor_refuses_a_share_that_is_no_number_next_to_its_field(api: Api) -> None:
    w = World(api)
    agreement = w.active()
    aid = str(agreement_uuid(agreement["id"]))
    employee = sign_in(api.client, api.secret, w.ids["emp"])
    editor = employee.get(f"/agreements/{aid}/sketch")
    assert editor.status_code == 200
    fields = hidden_fields(editor.text, f"/agreements/{aid}/sketch")
    position = api.position()
    sent = {
        **fields,
        "idempotency_key": fields["idempotency_key"] + "x",
        "part": "before",
        "before-0-id": "",
        "before-0-name": "Testing",
        "before-0-share": "lots",
        "before-0-energy": "DRAINING",
    }
    refused = employee.post(f"/agreements/{aid}/sketch", data=sent)
    assert refused.status_code == 422
    assert "Block before 1: share (%) must be a number." in unescape(refused.text)
    assert 'id="f-before-0-share"' in refused.text and 'value="lots"' in refused.text
    assert api.position() == position
    saved = employee.post(f"/agreements/{aid}/sketch", data={**sent, "before-0-share": "100"})
    assert saved.status_code == 303 and "/sketch?recorded=" in saved.headers["location"]
    # Someone else's sketch editor is the page every missing agreement gets.
    stranger = sign_in(api.client, api.secret, w.ids["stranger"])
    assert stranger.get(f"/agreements/{aid}/sketch").status_code == 404
    assert stranger.post(f"/agreements/{aid}/sketch", data=sent).status_code in (403, 404)
    assert api.position() > position


REVISE = """mutation($input: ReviseProposalInput!) { reviseProposal(input: $input) {
  agreement { version sketch { after { adjustmentId skill } } } userErrors { code } } }"""
REQUEST = """mutation($input: AgreementCommandInput!) { requestChanges(input: $input) {
  userErrors { code } } }"""


def test_a_revised_proposal_s_sketch_loses_its_links_in_the_read_model_too(api: Api) -> None:
    w = World(api)
    proposed = {**w.propose(), "_mate": w.ids["mate"]}
    assert _set(w, proposed, _sketch(proposed, "p"))["userErrors"] == []
    asked = api.data(w.manager, REQUEST, input={"agreementId": proposed["id"], "reason": "x"})
    assert asked["requestChanges"]["userErrors"] == []
    revised = api.data(
        w.employee,
        REVISE,
        input={
            "agreementId": proposed["id"],
            "title": "Smaller",
            "careerGoal": {"targetRole": "PM", "skills": ["customer research"]},
            "adjustments": [{"kind": "TASK", "description": "One brief", "hoursPerWeek": 2}],
        },
    )["reviseProposal"]
    assert revised["userErrors"] == []
    links = [b["adjustmentId"] for b in revised["agreement"]["sketch"]["after"]]
    assert links == [None, None, None, None]
    w.sync()
    read = api.data(w.hr, READ, id=proposed["id"])["agreement"]
    assert read["version"] == revised["agreement"]["version"]
    assert [b["adjustmentId"] for b in read["sketch"]["after"]] == links
    assert read["sketch"]["after"][3]["skill"] == "customer research"
