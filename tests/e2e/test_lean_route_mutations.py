"""The lean route (api.graphql.compiled_route) executes mutations itself — FastAPI's
routing and strawberry's view are not on their path — and answers each exactly as the
app's path does, byte for byte: the commands benchmark's mutations and upsertPeople with
success, userErrors, FORBIDDEN and SERVICE_UNAVAILABLE, and every mutation of the schema
refused by validation; what strawberry or the router refuses before execution
(BAD_REQUEST, an operation the document lacks) it passes on to the app.

A mutation runs once per request, so each case runs on two twins (the same command on
two agreements in the same state) and selects only what the twins share."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.graphql.router import CraftingGraphQLRouter
from api.graphql.schema import build_schema
from domain.sealing import KeysUnavailable
from tests.e2e.conftest import Api
from tests.e2e.test_compiled_route import _identical, _send, _via_app
from tests.e2e.world import World

ERRORS = "userErrors { field message code }"
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}
GUARDRAILS = {
    "maxDevelopmentHoursPerWeek": 8,
    "reviewEveryDays": 14,
    "protectedResponsibilities": ["Release sign-off"],
}


@pytest.fixture
def through_app(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Queries the app's GraphQL path executed (FastAPI and strawberry's view)."""
    seen: list[str] = []
    execute_single = CraftingGraphQLRouter.execute_single

    async def counted(self: CraftingGraphQLRouter, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["request_data"].query)
        return await execute_single(self, *args, **kwargs)

    monkeypatch.setattr(CraftingGraphQLRouter, "execute_single", counted)
    return seen


def _mutation(name: str, selection: str = ERRORS) -> str:
    input_type = name[0].upper() + name[1:] + "Input"
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}"


class Twins:
    """Sends a document through the lean route and through the app's path, and checks
    that the answers are the same bytes and that only the second went through the app."""

    def __init__(self, api: Api, monkeypatch: pytest.MonkeyPatch, through_app: list[str]) -> None:
        self.api, self.monkeypatch, self.through_app = api, monkeypatch, through_app
        self.answers: list[dict[str, Any]] = []

    def compare(
        self,
        token: str,
        query: str,
        lean_variables: dict[str, Any],
        app_variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **more: Any,
    ) -> dict[str, Any]:
        sent = {"Authorization": f"Bearer {token}"} | (headers or {})

        def body(variables: dict[str, Any]) -> bytes:
            return json.dumps({"query": query, "variables": variables} | more).encode()

        self.through_app.clear()
        lean = _send(self.api, body(lean_variables), sent)
        assert self.through_app == []  # the lean route executed it
        app = _via_app(self.api, self.monkeypatch, body(app_variables or lean_variables), sent)
        assert self.through_app == [query]
        _identical(lean, app)
        answer: dict[str, Any] = lean.json()
        self.answers.append(answer)
        return answer


def _outcomes(answer: dict[str, Any]) -> set[str]:
    """The codes an answer carries: userErrors' and errors', or OK."""
    codes = {e.get("extensions", {}).get("code", "GRAPHQL") for e in answer.get("errors", [])}
    for payload in (answer.get("data") or {}).values():
        codes |= {e["code"] for e in (payload or {}).get("userErrors", [])}
    return codes or {"OK"}


def _added(w: World, agreement_id: str) -> str:
    """An adjustment added to the agreement: its change id."""
    added = w.api.data(
        w.manager,
        _mutation("addAdjustment", f"agreement {{ adjustments {{ changeId }} }} {ERRORS}"),
        input={
            "agreementId": agreement_id,
            "adjustment": {"kind": "COGNITIVE", "description": "Research", "hoursPerWeek": 1},
        },
    )["addAdjustment"]
    assert added["userErrors"] == [], added
    change: str = added["agreement"]["adjustments"][-1]["changeId"]
    return change


def test_every_mutation_kind_is_answered_by_the_lean_route_byte_for_byte(
    api: Api, monkeypatch: pytest.MonkeyPatch, through_app: list[str]
) -> None:
    w = World(api)
    t = Twins(api, monkeypatch, through_app)
    mid = w.ids["mate"]
    proposal = {
        "title": "Tester to product manager",
        "careerGoal": {"targetRole": "Product manager", "skills": ["research"]},
        "adjustments": [{"kind": "TASK", "description": "Write a brief", "hoursPerWeek": 1}],
    }
    for headers in ({}, GRAPHQL_RESPONSE):
        t.compare(w.employee, _mutation("proposeAgreement"), {"input": proposal}, None, headers)
    p1, p2 = w.propose()["id"], w.propose()["id"]
    approve = _mutation("approveAgreement")
    t.compare(w.other_manager, approve, {"input": {"agreementId": p1, "guardrails": GUARDRAILS}})
    t.compare(
        w.manager,
        approve,
        {"input": {"agreementId": p1, "guardrails": GUARDRAILS}},
        {"input": {"agreementId": p2, "guardrails": GUARDRAILS}},
    )
    t.compare(  # approved already: a broken rule
        w.manager,
        approve,
        {"input": {"agreementId": p1, "guardrails": GUARDRAILS}},
        {"input": {"agreementId": p2, "guardrails": GUARDRAILS}},
    )
    for headers in ({}, GRAPHQL_RESPONSE):
        malformed = {"input": {"agreementId": "not-an-id", "guardrails": GUARDRAILS}}
        t.compare(w.manager, approve, malformed, None, headers)
    a1, a2 = w.active()["id"], w.active()["id"]
    adjustment = {"kind": "COGNITIVE", "description": "Customer research", "hoursPerWeek": 1}
    t.compare(
        w.manager,
        _mutation("addAdjustment"),
        {"input": {"agreementId": a1, "adjustment": adjustment}},
        {"input": {"agreementId": a2, "adjustment": adjustment}},
    )
    move = {"task": "Smoke tests", "hoursPerWeek": 0.5, "toPersonId": mid, "reason": "Time"}
    t.compare(
        w.manager,
        _mutation("reallocateTask"),
        {"input": {"agreementId": a1} | move},
        {"input": {"agreementId": a2} | move},
    )
    review = {"outcome": "ON_TRACK", "notes": "Going well"}
    t.compare(
        w.manager,
        _mutation("recordReview"),
        {"input": {"agreementId": a1} | review},
        {"input": {"agreementId": a2} | review},
    )
    c1, c2 = _added(w, a1), _added(w, a2)
    t.compare(
        w.manager,
        _mutation("revertChange"),
        {"input": {"agreementId": a1, "changeId": c1, "reason": "Too much"}},
        {"input": {"agreementId": a2, "changeId": c2, "reason": "Too much"}},
    )
    with monkeypatch.context() as patched:  # the key store unreachable

        def unavailable(*_: Any) -> Any:
            raise KeysUnavailable

        patched.setattr(api.container.app, "execute", unavailable)
        t.compare(
            w.manager,
            _mutation("recordReview"),
            {"input": {"agreementId": a1} | review},
            {"input": {"agreementId": a2} | review},
        )
    people = [{"id": mid, "displayName": "Mate", "email": "m@example.com", "managerId": None}]
    for token in (w.integration, w.employee):
        t.compare(token, _mutation("upsertPeople"), {"input": {"people": people}})
    # Every mutation of the schema, refused by validation (an argument it does not
    # take) and by name (an operation the document does not hold).
    mutations = build_schema()._schema.mutation_type
    assert mutations is not None
    for name in mutations.fields:
        for headers in ({}, GRAPHQL_RESPONSE):
            t.compare(w.hr, f"mutation {{ {name}(nope: 1) {{ __typename }} }}", {}, None, headers)
    seen = set().union(*map(_outcomes, t.answers))
    broken_rules = {"INVALID_INPUT", "INVALID_TRANSITION"}
    assert seen == {"OK", "FORBIDDEN", "SERVICE_UNAVAILABLE", "GRAPHQL"} | broken_rules


def test_what_is_refused_before_execution_is_the_apps_answer(
    api: Api, monkeypatch: pytest.MonkeyPatch, through_app: list[str]
) -> None:
    """An operationName the document lacks (strawberry's 400) and text that is not text
    (the router's BAD_REQUEST): the lean route passes them on."""
    w = World(api)
    named = "mutation Named { __typename }"
    review = _mutation("recordReview")
    nul = {"agreementId": "a\x00b", "outcome": "ON_TRACK"}
    cases = [
        (named, {"query": named, "operationName": "Other"}, 400),
        (review, {"query": review, "variables": {"input": nul}}, 200),
    ]
    sent = {"Authorization": f"Bearer {w.manager}"}
    for query, request, status in cases:
        through_app.clear()
        body = json.dumps(request).encode()
        lean = _send(api, body, sent)
        app = _via_app(api, monkeypatch, body, sent)
        assert through_app == [query, query]
        _identical(lean, app)
        assert lean.status_code == status, lean.text
    assert "BAD_REQUEST" in lean.text
