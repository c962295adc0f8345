"""What an attacker with a valid token tried, and what now stops them (both databases):
authorization leaks, unbounded inputs, text that is not text, forged tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from api.graphql import router
from domain.values import Role
from tests.e2e.conftest import Api, serving
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.world import UPSERT, World

NEEDS_EMPLOYEE = "This needs the agreement's employee (role EMPLOYEE) or HR."


def _mutation(name: str, input_type: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ position "
        "agreement { id status } userErrors { field message code } } }"
    )


def _run(api: Api, token: str, name: str, input_type: str, **fields: Any) -> dict[str, Any]:
    return api.gql(token, _mutation(name, input_type), input=fields)


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def _raw(api: Api, token: str, query: str, **variables: Any) -> dict[str, Any]:
    """POST with the JSON escaped to ASCII (lone surrogates travel as \\ud800 escapes),
    whatever the HTTP status; the decoded body."""
    response = api.client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 400), response.text
    body: dict[str, Any] = response.json()
    return body


def _people(api: Api, w: World, *people: dict[str, Any]) -> None:
    result = api.data(w.hr, UPSERT, input={"people": list(people)})
    assert result["upsertPeople"]["userErrors"] == [], result


def _person(pid: str, manager: str | None, team: str) -> dict[str, Any]:
    return {
        "id": pid,
        "displayName": pid.title(),
        "email": f"{pid}@example.com",
        "managerId": manager,
        "teamId": team,
        "contractedHoursPerWeek": 40,
    }


# --- authorization ----------------------------------------------------------------------


def test_career_evidence_shows_only_what_the_caller_may_read(api: Api) -> None:
    w = World(api)
    mine = api.data(
        w.manager,
        "mutation($i: ProposeAgreementInput!) { proposeAgreement(input: $i) "
        "{ agreement { id } userErrors { code } } }",
        i={"title": "Reorg", "careerGoal": {"targetRole": "Director"}},
    )["proposeAgreement"]["agreement"]["id"]
    _run(
        api,
        w.hr,
        "approveAgreement",
        "ApproveAgreementInput",
        agreementId=mine,
        guardrails={"maxDevelopmentHoursPerWeek": 6, "reviewEveryDays": 14},
    )
    recorded = _run(
        api,
        w.manager,
        "recordArtifact",
        "RecordArtifactInput",
        agreementId=mine,
        title="Plan",
        kind="REPORT",
        skills=["confidential-reorg-planning"],
    )
    assert recorded["data"]["recordArtifact"]["userErrors"] == []
    w.sync()
    query = (
        "query($p: String!) { careerEvidence(personId: $p) { skills { skill } agreements { id } } }"
    )
    # The employee may read their manager's name, never their career (SPEC section 3):
    # FORBIDDEN, with no data, as for anyone they may not see.
    refused = api.gql(w.employee, query, p=w.ids["mgr"])
    assert refused["data"] is None, refused
    (error,) = refused["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "confidential" not in str(refused)
    stranger = api.gql(w.employee, query, p=w.ids["mgr2"])
    assert stranger["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert api.gql(w.employee, "query($p: ID!) { person(id: $p) { id } }", p=w.ids["mgr"])["data"][
        "person"
    ]  # their manager as a person stays readable
    by_hr = api.data(w.hr, query, p=w.ids["mgr"])["careerEvidence"]
    assert by_hr["skills"] == [{"skill": "confidential-reorg-planning"}]


def test_team_workload_shows_a_manager_only_the_people_they_manage(api: Api) -> None:
    w = World(api)
    theirs = f"theirs-{w.s}"
    _people(api, w, _person(theirs, w.ids["mgr2"], w.team))  # mgr2 manages one of the team
    w.sync()
    query = "query($t: String!) { teamWorkload(teamId: $t) { members { personId } } }"
    members = api.data(w.other_manager, query, t=w.team)["teamWorkload"]["members"]
    assert [m["personId"] for m in members] == [theirs]
    everyone = api.data(w.hr, query, t=w.team)["teamWorkload"]["members"]
    assert {w.ids["emp"], w.ids["mate"], theirs} <= {m["personId"] for m in everyone}


def _reallocate(
    api: Api, token: str, aid: str, task: str = "Triage", hours: float = 2, **people: str
) -> dict[str, Any]:
    return _run(
        api,
        token,
        "reallocateTask",
        "ReallocateTaskInput",
        agreementId=aid,
        task=task,
        hoursPerWeek=hours,
        reason="x",
        **people,
    )


def test_a_manager_cannot_move_work_of_people_they_do_not_manage(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    before = api.position()
    for people in (
        {"fromPersonId": w.ids["stranger"], "toPersonId": w.ids["mate"]},
        {"toPersonId": w.ids["stranger"]},
        {"toPersonId": "nobody-at-all"},
    ):
        body = _reallocate(api, w.manager, aid, **people)
        assert _codes(body) == ["FORBIDDEN"], body
        assert w.ids["stranger"] not in str(body)
    assert api.position() == before
    allowed = _reallocate(
        api, w.manager, aid, fromPersonId=w.ids["mate2"], toPersonId=w.ids["mate"]
    )
    assert allowed["data"]["reallocateTask"]["userErrors"] == []


def test_an_overloaded_receiver_is_refused_without_telling_their_load(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    _reallocate(api, w.manager, aid, hours=3, toPersonId=w.ids["mate"])
    body = _reallocate(api, w.manager, aid, task="Smoke tests", toPersonId=w.ids["mate"])
    (error,) = body["data"]["reallocateTask"]["userErrors"]
    assert error["code"] == "RECEIVER_OVERLOADED"
    assert error["message"] == (  # the limit, never the person's load (3, or 5 after)
        f"'{w.ids['mate']}' cannot take on more reallocated work: the net hours a person "
        "receives are limited to 4 per week."
    )


@pytest.mark.parametrize("who", ["unknown", "existing", "auditor", "integration"])
def test_proposing_for_someone_else_is_refused_the_same_whether_they_exist(
    api: Api, who: str
) -> None:
    w = World(api)
    token, employee = {
        "unknown": (w.employee, "no-such-person"),
        "existing": (w.employee, w.ids["mate"]),
        "auditor": (w.auditor, None),
        "integration": (w.integration, None),
    }[who]
    fields: dict[str, Any] = {"title": "t", "careerGoal": {"targetRole": "PM"}}
    if employee is not None:
        fields["employeeId"] = employee
    before = api.position()
    body = _run(api, token, "proposeAgreement", "ProposeAgreementInput", **fields)
    assert _codes(body) == ["FORBIDDEN"], body
    assert body["errors"][0]["message"] == NEEDS_EMPLOYEE  # the same, exists or not
    assert api.position() == before


def test_replaying_an_idempotency_key_after_losing_access_shows_nothing(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    review = _run(
        api,
        w.manager,
        "recordReview",
        "RecordReviewInput",
        agreementId=aid,
        outcome="AT_RISK",
        notes="private notes",
        idempotencyKey="review-1",
    )
    assert review["data"]["recordReview"]["userErrors"] == []
    _people(api, w, _person(w.ids["emp"], w.ids["mgr2"], f"other-{w.s}"))  # moved
    again = api.gql(
        w.manager,
        "mutation($input: RecordReviewInput!) { recordReview(input: $input) { position "
        "agreement { reviews { notes } } userErrors { code } } }",
        input={
            "agreementId": aid,
            "outcome": "AT_RISK",
            "notes": "private notes",
            "idempotencyKey": "review-1",
        },
    )
    assert _codes(again) == ["FORBIDDEN"], again
    assert "private notes" not in str(again)


def test_metrics_need_a_token_of_a_role_that_reads_everything(api: Api) -> None:
    w = World(api)
    assert api.client.get("/metrics").status_code == 401
    headers = {"Authorization": f"Bearer {w.employee}"}
    assert api.client.get("/metrics", headers=headers).status_code == 403
    ok = api.client.get("/metrics", headers={"Authorization": f"Bearer {w.integration}"})
    assert ok.status_code == 200 and "crafting_" in ok.text


@pytest.mark.parametrize("roles", [[["HR"]], None, [], ["HR", 7], "HR"])
def test_a_token_with_malformed_roles_is_refused_with_401(api: Api, roles: Any) -> None:
    claims: dict[str, Any] = {"sub": "someone", "exp": datetime.now(UTC) + timedelta(hours=1)}
    if roles is not None:
        claims["roles"] = roles
    token = jwt.encode(claims, api.secret, algorithm="HS256")
    response = api.post("{ viewer { id } }", token=token)
    assert response.status_code == 401, response.text


# --- resource limits ------------------------------------------------------------------


def test_an_agreement_holds_a_bounded_number_of_children(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    from domain.agreement import CHILD_LIMITS

    for i in range(CHILD_LIMITS["artifacts"]):
        body = _run(
            api,
            w.employee,
            "recordArtifact",
            "RecordArtifactInput",
            agreementId=aid,
            title=f"Note {i}",
            kind="OTHER",
        )
        assert body["data"]["recordArtifact"]["userErrors"] == []
    before = api.position()
    body = _run(
        api,
        w.employee,
        "recordArtifact",
        "RecordArtifactInput",
        agreementId=aid,
        title="One too many",
        kind="OTHER",
    )
    assert [e["code"] for e in body["data"]["recordArtifact"]["userErrors"]] == ["LIMIT_REACHED"]
    assert api.position() == before


def test_a_response_larger_than_the_bound_is_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = World(api)
    w.active()
    w.sync()  # the list must hold the agreement, or the response is small
    monkeypatch.setattr(router, "MAX_RESPONSE_BYTES", 100)
    body = api.gql(w.hr, "{ agreements(first: 100) { edges { node { id title status } } } }")
    assert body["data"] is None
    assert _codes(body) == ["RESPONSE_TOO_LARGE"]


def test_huge_lists_in_variables_get_a_clear_error(api: Api) -> None:
    w = World(api)
    query = "query($t: [String!]) { auditLog(first: 1, filter: {types: $t}) { edges { cursor } } }"
    body = _raw(api, w.auditor, query, t=[f"T{i}" for i in range(70_000)])
    assert body["errors"][0]["message"].startswith("A list in the variables has more than")
    body = api.gql(w.auditor, query, t=[f"T{i}" for i in range(51)])
    assert _codes(body) == ["BAD_USER_INPUT"]
    assert "Unexpected error" not in str(body)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Api]:
    with serving(
        f"sqlite:///{tmp_path}/crafting.db", rate_limit_per_second=0.5, rate_limit_burst=3
    ) as served:
        yield served


def test_a_caller_over_the_rate_limit_gets_429_with_retry_after(limited: Api) -> None:
    greedy = limited.token("greedy-client", Role.INTEGRATION)
    other = limited.token("polite-client", Role.INTEGRATION)
    statuses = [limited.post("{ viewer { id } }", token=greedy).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = limited.post("{ viewer { id } }", token=greedy)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert limited.post("{ viewer { id } }", token=other).status_code == 200


# --- input hygiene ----------------------------------------------------------------------

NOT_TEXT = ["a\ud800b", "a\x00b"]


@pytest.mark.parametrize("bad", NOT_TEXT)
def test_text_that_is_not_text_gets_a_clear_error_everywhere(api: Api, bad: str) -> None:
    w = World(api)
    aid = w.active()["id"]
    before = api.position()
    attempts = [
        (
            w.employee,
            "proposeAgreement",
            "ProposeAgreementInput",
            {"title": bad, "careerGoal": {"targetRole": "PM"}},
        ),
        (
            w.manager,
            "recordReview",
            "RecordReviewInput",
            {"agreementId": aid, "outcome": "ON_TRACK", "notes": bad},
        ),
        (
            w.manager,
            "reallocateTask",
            "ReallocateTaskInput",
            {
                "agreementId": aid,
                "task": bad,
                "hoursPerWeek": 1,
                "toPersonId": w.ids["mate"],
                "reason": "x",
            },
        ),
        (
            w.manager,
            "pauseAgreement",
            "AgreementCommandInput",
            {"agreementId": aid, "reason": "x", "idempotencyKey": bad},
        ),
        (
            w.hr,
            "upsertPeople",
            "UpsertPeopleInput",
            {"people": [_person("p-ok", None, "t") | {"id": bad}]},
        ),
        (
            w.hr,
            "upsertPeople",
            "UpsertPeopleInput",
            {"people": [_person("p-ok", None, "t") | {"displayName": bad}]},
        ),
    ]
    for token, name, input_type, fields in attempts:
        body = _raw(api, token, _mutation(name, input_type), input=fields)
        assert "Unexpected error" not in str(body), (name, body)
        assert _codes(body) == ["BAD_REQUEST"], (name, body)
    filtered = _raw(
        api,
        w.hr,
        "query($e: String) { agreements(filter: {employeeId: $e}) { edges { cursor } } }",
        e=bad,
    )
    assert _codes(filtered) == ["BAD_REQUEST"]
    literal = _raw(api, w.hr, '{ person(id: "a\\u0000b") { id } }')
    assert _codes(literal) == ["BAD_REQUEST"]
    assert api.position() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "a\u202egnp.exe"),
        ("title", "a\u0085b"),
        ("title", "a\u009bb"),
        ("task", "a\u202eb"),
        ("notes", "x\u2066y"),
    ],
)
def test_controls_and_direction_overrides_are_refused(api: Api, field: str, value: str) -> None:
    w = World(api)
    aid = w.active()["id"]
    name, input_type, fields = {
        "title": (
            "proposeAgreement",
            "ProposeAgreementInput",
            {"title": value, "careerGoal": {"targetRole": "PM"}},
        ),
        "task": (
            "reallocateTask",
            "ReallocateTaskInput",
            {
                "agreementId": aid,
                "task": value,
                "hoursPerWeek": 1,
                "toPersonId": w.ids["mate"],
                "reason": "x",
            },
        ),
        "notes": (
            "recordReview",
            "RecordReviewInput",
            {"agreementId": aid, "outcome": "ON_TRACK", "notes": value},
        ),
    }[field]
    token = w.employee if name == "proposeAgreement" else w.manager
    before = api.position()
    payload = api.data(token, _mutation(name, input_type), input=fields)[name]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_INPUT", field)]
    assert api.position() == before


@pytest.mark.parametrize("pid", ["a\r\nb", "a\u200bb", "a\uffffb", "\uff53am", "-lead", "x" * 129])
def test_person_ids_are_restricted_to_a_safe_set(api: Api, pid: str) -> None:
    w = World(api)
    body = api.data(w.hr, UPSERT, input={"people": [_person("ok-id", None, "t") | {"id": pid}]})
    assert [e["code"] for e in body["upsertPeople"]["userErrors"]] == ["INVALID_INPUT"]


def test_text_is_stored_in_one_normal_form(api: Api) -> None:
    w = World(api)
    decomposed = "Cafe\u0301 owner"
    payload = api.data(
        w.employee,
        _mutation("proposeAgreement", "ProposeAgreementInput").replace(
            "agreement { id status }", "agreement { id title }"
        ),
        input={"title": decomposed, "careerGoal": {"targetRole": "PM"}},
    )["proposeAgreement"]
    assert payload["agreement"]["title"] == "Caf\u00e9 owner"


def test_a_manager_cycle_is_refused(api: Api) -> None:
    w = World(api)
    a, b, c = (f"{n}-{w.s}" for n in ("cyc-a", "cyc-b", "cyc-c"))
    _people(api, w, _person(a, None, "t"), _person(b, a, "t"), _person(c, b, "t"))
    before = api.position()
    body = api.data(w.hr, UPSERT, input={"people": [_person(a, c, "t")]})
    (error,) = body["upsertPeople"]["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "people[0].managerId")
    assert api.position() == before
    both = api.data(
        w.hr,
        UPSERT,
        input={
            "people": [_person(f"x-{w.s}", f"y-{w.s}", "t"), _person(f"y-{w.s}", f"x-{w.s}", "t")]
        },
    )
    assert [e["code"] for e in both["upsertPeople"]["userErrors"]] == ["INVALID_INPUT"]
