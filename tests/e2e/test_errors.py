"""Rule violations, bad input, bad tokens and limits over HTTP: a clear error, never a
500 or a stack trace, and nothing recorded."""

from __future__ import annotations

import base64
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import jwt
import pytest
from graphql import get_introspection_query

from api.graphql.schema import sdl
from api.http.logs import JsonFormatter
from tests.e2e.conftest import Api
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.world import World

PAYLOAD = "{ agreement { id version } position userErrors { field message code } }"


def refused(
    api: Api, token: str, name: str, input_type: str, code: str, **fields: Any
) -> dict[str, Any]:
    before = api.position()
    query = f"mutation($input: {input_type}!) {{ {name}(input: $input) {PAYLOAD} }}"
    payload: dict[str, Any] = api.data(token, query, input=fields)[name]
    assert payload["agreement"] is None and payload["position"] is None
    assert [e["code"] for e in payload["userErrors"]] == [code], payload
    assert api.position() == before, "a refused command records nothing"
    return payload["userErrors"][0]


def test_every_rule_violation_is_a_user_error(api: Api) -> None:
    w = World(api)
    aid = w.active(max_hours=3)["id"]
    i = w.ids
    refused(
        api,
        w.manager,
        "addAdjustment",
        "AddAdjustmentInput",
        "GUARDRAIL_EXCEEDED",
        agreementId=aid,
        adjustment={"kind": "TASK", "description": "x", "hoursPerWeek": 2},
    )
    refused(
        api,
        w.manager,
        "reallocateTask",
        "ReallocateTaskInput",
        "PROTECTED_RESPONSIBILITY",
        agreementId=aid,
        task="release sign-off",
        hoursPerWeek=1,
        toPersonId=i["mate"],
        reason="x",
    )
    refused(
        api,
        w.manager,
        "reallocateTask",
        "ReallocateTaskInput",
        "RECEIVER_OVERLOADED",
        agreementId=aid,
        task="Triage",
        hoursPerWeek=5,
        toPersonId=i["mate"],
        reason="x",
    )
    refused(
        api,
        w.manager,
        "pauseAgreement",
        "AgreementCommandInput",
        "VERSION_CONFLICT",
        agreementId=aid,
        reason="x",
        expectedVersion=1,
    )
    refused(
        api,
        w.manager,
        "pauseAgreement",
        "AgreementCommandInput",
        "REASON_REQUIRED",
        agreementId=aid,
    )
    refused(
        api,
        w.manager,
        "resumeAgreement",
        "AgreementCommandInput",
        "INVALID_TRANSITION",
        agreementId=aid,
    )
    refused(  # HR may move anyone's work, so HR learns that "ghost" is nobody
        api,
        w.hr,
        "reallocateTask",
        "ReallocateTaskInput",
        "UNKNOWN_PERSON",
        agreementId=aid,
        task="Triage",
        hoursPerWeek=1,
        toPersonId="ghost",
        reason="x",
    )
    refused(
        api,
        w.manager,
        "revertChange",
        "RevertChangeInput",
        "NOT_FOUND",
        agreementId=aid,
        changeId="nope",
        reason="x",
    )
    api.data(
        w.manager,
        f"mutation($i: AgreementCommandInput!) {{ pauseAgreement(input: $i) {PAYLOAD} }}",
        i={"agreementId": aid, "reason": "x", "idempotencyKey": "k"},
    )
    refused(
        api,
        w.manager,
        "pauseAgreement",
        "AgreementCommandInput",
        "IDEMPOTENCY_KEY_REUSED",
        agreementId=aid,
        reason="other",
        idempotencyKey="k",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "", "careerGoal": {"targetRole": "PM"}}, "title"),
        ({"title": "x" * 201, "careerGoal": {"targetRole": "PM"}}, "title"),
        (
            {
                "title": "ok",
                "careerGoal": {"targetRole": "PM"},
                "adjustments": [{"kind": "TASK", "description": "x", "hoursPerWeek": -1}],
            },
            "adjustments[0].hoursPerWeek",
        ),
        (
            {
                "title": "ok",
                "careerGoal": {"targetRole": "PM"},
                "adjustments": [{"kind": "TASK", "description": "x", "hoursPerWeek": 1e300}],
            },
            "adjustments[0].hoursPerWeek",
        ),
        (
            {"title": "ok", "careerGoal": {"targetRole": "PM", "targetDate": "1800-01-01"}},
            "careerGoal.targetDate",
        ),
    ],
)
def test_bad_input_is_a_user_error_naming_the_field(
    api: Api, fields: dict[str, Any], field: str
) -> None:
    w = World(api)
    error = refused(
        api, w.employee, "proposeAgreement", "ProposeAgreementInput", "INVALID_INPUT", **fields
    )
    assert error["field"] == field


@pytest.mark.parametrize(
    "variables",
    [
        {
            "title": "ok",
            "careerGoal": {"targetRole": "PM"},
            "adjustments": [{"kind": "SLEEPING", "description": "x", "hoursPerWeek": 1}],
        },
        {"title": 5, "careerGoal": {"targetRole": "PM"}},
        {"title": "ok"},
        {"title": "ok", "careerGoal": {"targetRole": "PM", "targetDate": "not a date"}},
    ],
)
def test_malformed_input_is_a_validation_error(api: Api, variables: dict[str, Any]) -> None:
    w = World(api)
    before = api.position()
    response = api.post(
        f"mutation($input: ProposeAgreementInput!) {{ proposeAgreement(input: $input) {PAYLOAD} }}",
        {"input": variables},
        token=w.employee,
    )
    assert response.status_code in (200, 400)
    body = response.json()
    assert body["errors"] and "Traceback" not in response.text
    message = body["errors"][0]["message"]
    assert "$input" in message and message != "Unexpected error.", message
    assert api.position() == before


def test_a_malformed_agreement_id_is_a_user_error(api: Api) -> None:
    w = World(api)
    error = refused(
        api,
        w.manager,
        "pauseAgreement",
        "AgreementCommandInput",
        "INVALID_INPUT",
        agreementId="%%%",
        reason="x",
    )
    assert error["field"] == "agreementId"
    body = api.gql(w.manager, 'query { agreement(id: "not-an-id") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_bad_cursors_and_page_sizes_are_clean_errors(api: Api) -> None:
    w = World(api)
    for query in (
        '{ agreements(after: "zzz") { edges { cursor } } }',
        "{ agreements(first: 101) { edges { cursor } } }",
        "{ agreements(first: -1) { edges { cursor } } }",
        '{ changes(after: "YWdyZWVtZW50c3w0") { edges { cursor } } }',
    ):
        body = api.gql(w.hr, query)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", query
        assert body["data"] is None


def _token(secret: str, **claims: Any) -> str:
    base = {"sub": "hr-1", "roles": ["HR"], "exp": datetime.now(UTC) + timedelta(hours=1)}
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


def test_requests_without_a_valid_token_get_401(api: Api) -> None:
    none_alg = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        .decode()
        .rstrip("=")
        + "."
        + base64.urlsafe_b64encode(
            json.dumps({"sub": "hr-1", "roles": ["HR"], "exp": 4102444800}).encode()
        )
        .decode()
        .rstrip("=")
        + "."
    )
    bad = [
        None,
        "",
        "garbage",
        none_alg,
        _token(api.secret, exp=datetime.now(UTC) - timedelta(minutes=1)),
        _token("another-secret-that-is-long-enough-to-be-real-1234"),
        _token(api.secret, roles=["ROOT"]),
        _token(api.secret, sub=""),
    ]
    for token in bad:
        response = api.post("{ viewer { id } }", token=token)
        assert response.status_code == 401, token
        assert response.headers["www-authenticate"] == "Bearer"
    assert api.client.get("/healthz").status_code == 200
    assert api.client.get("/readyz").json()["database"] == "ok"
    missing_exp = jwt.encode({"sub": "hr-1", "roles": ["HR"]}, api.secret, algorithm="HS256")
    assert api.post("{ viewer { id } }", token=missing_exp).status_code == 401


def test_query_limits(api: Api) -> None:
    w = World(api)
    deep = (
        "{ agreements { edges { node { employee { "
        + "manager { " * 8
        + "personId"
        + " }" * 8
        + " } } } } }"
    )
    aliases = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(40)) + " }"
    page = (
        "agreements(first: 100) { edges { node { adjustments { id kind description }"
        " reallocations { id task } reviews { id } artifacts { id } changes { changeId }"
        " employee { displayName } } } }"
    )
    costly = "{ " + " ".join(f"p{n}: {page}" for n in range(3)) + " }"
    modern = {"accept": "application/graphql-response+json"}
    for query in (deep, aliases, costly):
        response = api.post(query, token=w.hr, headers=modern)
        assert response.status_code == 400, query
        assert "errors" in response.json() and "data" not in response.json()
    huge = api.client.post(
        "/graphql",
        content=b"x" * 2_000_000,
        headers={"Authorization": f"Bearer {w.hr}", "content-type": "application/json"},
    )
    assert huge.status_code == 413


def test_graphql_over_http(api: Api) -> None:
    w = World(api)
    got = api.client.get(
        "/graphql",
        params={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {w.hr}", "accept": "application/graphql-response+json"},
    )
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/graphql-response+json")
    mutation_via_get = api.client.get(
        "/graphql",
        params={"query": 'mutation { pauseAgreement(input: {agreementId: "x"}) { position } }'},
        headers={"Authorization": f"Bearer {w.hr}"},
    )
    assert mutation_via_get.status_code in (400, 405)
    legacy = api.post("{ nope }", token=w.hr, headers={"accept": "application/json"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    modern = api.post(
        "{ nope }", token=w.hr, headers={"accept": "application/graphql-response+json"}
    )
    assert modern.status_code == 400
    broken = api.client.post(
        "/graphql",
        content=b"{not json",
        headers={"Authorization": f"Bearer {w.hr}", "content-type": "application/json"},
    )
    assert broken.status_code == 400
    for accept in ("*/*", None):  # a client that says nothing in particular: JSON
        headers = {} if accept is None else {"accept": accept}
        plain = api.post("{ nope }", token=w.hr, headers=headers)
        assert plain.status_code == 200
        assert plain.headers["content-type"].startswith("application/json")


def test_introspection_is_open_to_authenticated_callers_only(api: Api) -> None:
    w = World(api)
    query = '{ __schema { queryType { name } } __type(name: "Agreement") { name } }'
    assert api.data(w.employee, query) == {
        "__schema": {"queryType": {"name": "Query"}},
        "__type": {"name": "Agreement"},
    }
    assert api.post(query, token=None).status_code == 401
    full = api.data(w.integration, get_introspection_query(descriptions=True))  # codegen's
    assert {"Agreement", "Person", "Mutation"} <= {t["name"] for t in full["__schema"]["types"]}


def test_unexpected_failures_hide_their_internals(api: Api, monkeypatch: Any) -> None:
    w = World(api)

    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret internals: /etc/passwd")

    monkeypatch.setattr(api.container.app, "execute", explode)
    response = api.post(
        f"mutation($i: AgreementCommandInput!) {{ pauseAgreement(input: $i) {PAYLOAD} }}",
        {"i": {"agreementId": str(uuid4()), "reason": "x"}},
        token=w.hr,
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == "Unexpected error."
    assert "passwd" not in response.text


def test_the_committed_schema_matches_the_code() -> None:
    committed = (Path(__file__).parents[2] / "schema.graphql").read_text()
    assert committed == sdl(), "run: python -m api.graphql.schema > schema.graphql"


def test_logs_are_json_lines_without_tokens_or_notes(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    previous = handler.setStream(captured)
    try:
        api.data(
            w.manager,
            f"mutation($i: RecordReviewInput!) {{ recordReview(input: $i) {PAYLOAD} }}",
            i={"agreementId": aid, "outcome": "AT_RISK", "notes": "private-note-about-health"},
        )
        api.gql(w.manager, 'query { agreement(id: "private-note-in-query") { id } }')
    finally:
        handler.setStream(previous)
    out = captured.getvalue()
    entries = [json.loads(line) for line in out.splitlines()]
    assert any(e["message"] == "request" and e["path"] == "/graphql" for e in entries)
    assert all(e["correlation_id"] for e in entries if e["message"] == "request")
    assert "private-note" not in out
    assert w.manager not in out  # no tokens


def test_every_response_carries_a_correlation_id_and_a_crash_is_a_clean_500(api: Api) -> None:
    kept = api.client.get("/healthz", headers={"x-correlation-id": "sync-42"})
    assert kept.headers["x-correlation-id"] == "sync-42"
    replaced = api.client.get("/healthz", headers={"x-correlation-id": "bad id;"})
    assert replaced.headers["x-correlation-id"] != "bad id;"
    assert len(replaced.headers["x-correlation-id"]) == 36  # a fresh UUID

    def boom() -> None:
        raise RuntimeError("secret internals: /etc/passwd")

    app = api.client.app
    app.add_api_route("/boom", boom)  # type: ignore[attr-defined]
    # Before the web app's mount at /, which answers every path routed after it.
    app.router.routes.insert(0, app.router.routes.pop())  # type: ignore[attr-defined]
    crashed = api.client.get("/boom")
    assert crashed.status_code == 500
    assert crashed.json() == {"error": "Unexpected error."}
    assert crashed.headers["x-correlation-id"]
    nonsense = api.client.post("/graphql", content=b"{}", headers={"content-length": "lots"})
    assert nonsense.status_code in (400, 413)
