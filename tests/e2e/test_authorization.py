"""Every role x every operation (SPEC section 3): refusals are FORBIDDEN, say nothing about
the object, and record nothing; the allowed calls are not refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest

from tests.e2e.conftest import Api, serving
from tests.e2e.world import World
from tests.oidc import Provider

ROLES = ("employee", "mate", "stranger", "manager", "other_manager", "hr", "auditor", "integration")
READERS = {"employee", "manager", "hr", "auditor", "integration"}
EVERYTHING = {"hr", "auditor", "integration"}
MANAGER_SIDE = {"manager", "hr"}
EMPLOYEE_SIDE = {"employee", "hr"}
NEEDS = (
    "This needs",
    "Reading",
    "The audit log needs",
    "The change feed needs",
    "A team's workload needs",
    "Reviews due need",
    "Changing the directory needs",
    "Verifying integrity needs",
    "A manager may move work",
)
ROLE_WORDS = ("HR", "AUDITOR", "INTEGRATION", "MANAGER", "EMPLOYEE", "manager", "employee")


@pytest.fixture(scope="module", params=["hs256", "provider"])
def api(request: pytest.FixtureRequest, module_database_url: str) -> Iterator[Api]:
    """The service on each database, callers holding our own HS256 tokens, then tokens
    the identity provider issued (their groups mapped by CRAFTING_OIDC_ROLE_MAP)."""
    if request.param == "hs256":
        with serving(module_database_url) as served:
            yield served
        return
    provider: Provider = request.getfixturevalue("oidc_provider")
    with serving(module_database_url, **provider.settings()) as served:
        served.tokens = provider.person_token
        yield served


@dataclass(frozen=True)
class Op:
    name: str
    query: str
    variables: Any  # (world, ids) -> dict
    allowed: set[str]
    writes: bool = False


def m(name: str, input_type: str, allowed: set[str], fields: Any) -> Op:
    query = (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ position "
        "userErrors { code } } }"
    )
    return Op(name, query, lambda w, x: {"input": fields(w, x)}, allowed, writes=True)


def a(extra: dict[str, Any] | None = None) -> Any:
    return lambda w, x: {"agreementId": x["agreement"], "reason": "matrix", **(extra or {})}


RAILS = {"maxDevelopmentHoursPerWeek": 6, "reviewEveryDays": 14}
OPS = [
    Op("viewer", "{ viewer { id } }", lambda w, x: {}, set(ROLES)),
    Op(
        "agreement",
        "query($id: ID!) { agreement(id: $id) { id title } }",
        lambda w, x: {"id": x["agreement"]},
        READERS,
    ),
    Op(
        "node",
        "query($id: ID!) { node(id: $id) { id } }",
        lambda w, x: {"id": x["agreement"]},
        READERS,
    ),
    Op(
        "agreementAt",
        "query($id: ID!) { agreementAt(id: $id, version: 1) { id title } }",
        lambda w, x: {"id": x["agreement"]},
        READERS,
    ),
    Op(
        "agreement",
        "query($id: ID!) { agreement(id: $id) { sketch { before { name } after { name } "
        "relationships { name } purpose } } }",
        lambda w, x: {"id": x["agreement"]},
        READERS,
    ),
    Op(
        "agreementAt",
        "query($id: ID!) { agreementAt(id: $id, version: 1) { sketch { purpose } } }",
        lambda w, x: {"id": x["agreement"]},
        READERS,
    ),
    Op(
        "person",
        "query($id: ID!) { person(id: $id) { personId email } }",
        lambda w, x: {"id": w.ids["emp"]},
        READERS,
    ),
    Op(
        "careerEvidence",
        "query($p: String!) { careerEvidence(personId: $p) { skills { skill } } }",
        lambda w, x: {"p": w.ids["emp"]},
        READERS,
    ),
    Op("auditLog", "{ auditLog(first: 1) { edges { cursor } } }", lambda w, x: {}, EVERYTHING),
    Op("changes", "{ changes(first: 1) { edges { cursor } } }", lambda w, x: {}, EVERYTHING),
    Op(
        "teamWorkload",
        "query($t: String!) { teamWorkload(teamId: $t) { teamId } }",
        lambda w, x: {"t": w.team},
        {"manager", *EVERYTHING},
    ),
    Op(
        "reviewsDue",
        '{ reviewsDue(before: "2100-01-01") { edges { cursor } } }',
        lambda w, x: {},
        {"manager", "other_manager", *EVERYTHING},
    ),
    Op(
        "reviewsDue",
        'query($m: String) { reviewsDue(before: "2100-01-01", managerId: $m) '
        "{ edges { cursor } } }",
        lambda w, x: {"m": w.ids["mgr"]},
        {"manager", *EVERYTHING},
    ),
    m(
        "proposeAgreement",
        "ProposeAgreementInput",
        EMPLOYEE_SIDE,
        lambda w, x: {"employeeId": w.ids["emp"], "title": "t", "careerGoal": {"targetRole": "PM"}},
    ),
    m(
        "reviseProposal",
        "ReviseProposalInput",
        EMPLOYEE_SIDE,
        a({"title": "t", "careerGoal": {"targetRole": "PM"}}),
    ),
    m("requestChanges", "AgreementCommandInput", MANAGER_SIDE, a()),
    m("approveAgreement", "ApproveAgreementInput", MANAGER_SIDE, a({"guardrails": RAILS})),
    m("rejectAgreement", "AgreementCommandInput", MANAGER_SIDE, a()),
    m("setGuardrails", "SetGuardrailsInput", MANAGER_SIDE, a({"guardrails": RAILS})),
    m(
        "addAdjustment",
        "AddAdjustmentInput",
        MANAGER_SIDE,
        a({"adjustment": {"kind": "TASK", "description": "x", "hoursPerWeek": 0}}),
    ),
    m(
        "reallocateTask",
        "ReallocateTaskInput",
        MANAGER_SIDE,
        lambda w, x: a({"task": "t", "hoursPerWeek": 1, "toPersonId": w.ids["mate"]})(w, x),
    ),
    m("recordReview", "RecordReviewInput", MANAGER_SIDE, a({"outcome": "ON_TRACK"})),
    m(
        "recordArtifact",
        "RecordArtifactInput",
        {"employee", "manager", "hr"},
        a({"title": "t", "kind": "DEMO"}),
    ),
    m(
        "setSketch",
        "SetSketchInput",
        EMPLOYEE_SIDE,
        a({"sketch": {"before": [{"name": "Testing", "share": 100, "energy": "NEUTRAL"}]}}),
    ),
    m(
        "revertChange",
        "RevertChangeInput",
        MANAGER_SIDE,
        lambda w, x: a({"changeId": x["change"]})(w, x),
    ),
    m("revertToVersion", "RevertToVersionInput", MANAGER_SIDE, a({"version": 2})),
    m("pauseAgreement", "AgreementCommandInput", MANAGER_SIDE, a()),
    m("resumeAgreement", "AgreementCommandInput", MANAGER_SIDE, a()),
    m("completeAgreement", "AgreementCommandInput", MANAGER_SIDE, a()),
    m("withdrawAgreement", "AgreementCommandInput", EMPLOYEE_SIDE, a()),
    m(
        "upsertPeople",
        "UpsertPeopleInput",
        {"hr", "integration"},
        lambda w, x: {
            "people": [
                {
                    "id": w.ids["mate2"],
                    "displayName": "Mate Two",
                    "email": "m2@example.com",
                    "managerId": w.ids["mgr"],
                    "teamId": w.team,
                    "contractedHoursPerWeek": 32,
                }
            ]
        },
    ),
]


def _tokens(w: World) -> dict[str, str]:
    return {
        "employee": w.employee,
        "mate": w.mate,
        "stranger": w.stranger,
        "manager": w.manager,
        "other_manager": w.other_manager,
        "hr": w.hr,
        "auditor": w.auditor,
        "integration": w.integration,
    }


def _assert_forbidden(api: Api, body: dict[str, Any], op: Op, secret_bits: list[str]) -> None:
    errors = body.get("errors") or []
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], (op.name, body)
    message = errors[0]["message"]
    # It says which role or relationship is needed, and nothing about the object.
    assert message.startswith(NEEDS), message
    assert any(word in message for word in ROLE_WORDS), message
    assert body["data"] is None or body["data"].get(op.name) is None
    text = str(body)
    for bit in secret_bits:
        assert bit not in text, f"{op.name} leaked {bit}"


def test_every_role_against_every_operation(api: Api) -> None:
    w = World(api)
    agreement = w.active()
    x = {"agreement": agreement["id"], "change": agreement["adjustments"][0]["changeId"]}
    tokens = _tokens(w)
    w.sync()
    for op in OPS:
        for role in ROLES:
            before = api.position()
            body = api.gql(tokens[role], op.query, **op.variables(w, x))
            if role in op.allowed:
                codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
                assert "FORBIDDEN" not in codes, (op.name, role, body)
            else:
                _assert_forbidden(api, body, op, [agreement["id"], "Tester"])
                assert api.position() == before, f"{op.name} by {role} recorded something"


def test_a_manager_cannot_reach_another_managers_report(api: Api) -> None:
    w = World(api)
    theirs = World.propose(w, token=w.stranger)  # the stranger reports to the other manager
    x = {"agreement": theirs["id"], "change": theirs["adjustments"][0]["changeId"]}
    for op in OPS:
        if op.name in {"agreement", "node", "agreementAt"} or (
            op.writes and "agreementId" in str(op.variables(w, x))
        ):
            before = api.position()
            body = api.gql(w.manager, op.query, **op.variables(w, x))
            _assert_forbidden(api, body, op, [theirs["id"]])
            assert api.position() == before


@pytest.mark.parametrize("role", ["employee", "manager", "hr", "auditor"])
def test_a_made_up_id_reveals_nothing(api: Api, role: str) -> None:
    w = World(api)
    token = _tokens(w)[role]
    made_up = str(uuid4())
    theirs = World.propose(w, token=w.stranger)["id"]  # real, and not this caller's
    read = "query($id: ID!) { agreement(id: $id) { id } }"
    body = api.gql(token, read, id=made_up)
    if role in EVERYTHING:
        assert body == {"data": {"agreement": None}}
    else:
        _assert_forbidden(api, body, OPS[1], [made_up])
        assert (
            body["errors"][0]["message"] == api.gql(token, read, id=theirs)["errors"][0]["message"]
        ), "a made-up id must be refused in the very words of a real one"
    before = api.position()
    pause = (
        "mutation($i: AgreementCommandInput!) { pauseAgreement(input: $i) "
        "{ position userErrors { code } } }"
    )
    payload = api.gql(token, pause, i={"agreementId": made_up, "reason": "x"})
    if role == "hr":
        assert payload["data"]["pauseAgreement"]["userErrors"] == [{"code": "NOT_FOUND"}]
    else:
        _assert_forbidden(api, payload, OPS[-4], [made_up])
        real = api.gql(token, pause, i={"agreementId": theirs, "reason": "x"})
        assert payload["errors"][0]["message"] == real["errors"][0]["message"]
    assert api.position() == before


def test_lists_only_show_what_the_caller_may_read(api: Api) -> None:
    w = World(api)
    mine = w.propose()["id"]
    theirs = World.propose(w, token=w.stranger)["id"]
    query = (
        "query($p: Int) { agreements(first: 100, consistentWith: $p) { edges { node { id } } } }"
    )
    position = api.position()

    def ids(token: str) -> set[str]:
        edges = api.data(token, query, p=position)["agreements"]["edges"]
        return {e["node"]["id"] for e in edges}

    assert mine in ids(w.employee) and theirs not in ids(w.employee)
    assert mine not in ids(w.mate)
    assert mine in ids(w.manager) and theirs not in ids(w.manager)
    assert theirs in ids(w.other_manager) and mine not in ids(w.other_manager)
    assert {mine, theirs} <= ids(w.auditor)
