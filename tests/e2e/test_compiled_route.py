"""The lean route (api.graphql.compiled_route) answers exactly as the app's GraphQL path
does — status, headers and body byte for byte — for compiled reads and for every other
document it executes (mutations of every kind, their successes, userErrors and errors),
and for every refusal; it checks the caller, takes the rate limit and counts a fallback
once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from prometheus_client import REGISTRY

from api.graphql.compiled_route import CompiledRoute
from api.graphql.schema import CraftingSchema
from api.http.auth import mint_token
from domain.values import Role
from tests.e2e.conftest import Api, serving
from tests.e2e.test_compiled_reads import FULL, _history
from tests.e2e.world import World

pytestmark = pytest.mark.postgres

ID = {"X-Correlation-Id": "lean-route-test"}  # the same id on both paths' answers


@pytest.fixture
def api(postgres_url: str) -> Iterator[Api]:
    with serving(postgres_url) as served:
        yield served


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Queries strawberry executed (the app's path; the lean route executes none)."""
    seen: list[str] = []
    execute = CraftingSchema.execute

    async def counted(self: CraftingSchema, query: str | None, *args: Any, **kwargs: Any) -> Any:
        seen.append(query or "")
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(CraftingSchema, "execute", counted)
    return seen


async def _declined(*_: Any) -> bool:
    return False


def _send(api: Api, body: bytes, headers: dict[str, str]) -> httpx.Response:
    sent = {"content-type": "application/json"} | ID | headers
    return api.client.post("/graphql", content=body, headers=sent)


def _both(
    api: Api, monkeypatch: pytest.MonkeyPatch, body: bytes, headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    """The request through the lean route, then through the app's path (the route told
    to answer nothing, so it passes every request on)."""
    return _send(api, body, headers), _via_app(api, monkeypatch, body, headers)


def _via_app(
    api: Api, monkeypatch: pytest.MonkeyPatch, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    with monkeypatch.context() as patched:
        patched.setattr(CompiledRoute, "_answered", _declined)
        return _send(api, body, headers)


def _identical(lean: httpx.Response, app: httpx.Response) -> None:
    assert lean.status_code == app.status_code, (lean.text, app.text)
    assert lean.headers.raw == app.headers.raw
    assert lean.content == app.content


def _body(query: str, variables: Any = None, **more: Any) -> bytes:
    return json.dumps({"query": query, "variables": variables} | more).encode()


def _count(outcome: str) -> float:
    labels = {"outcome": outcome}
    return REGISTRY.get_sample_value("crafting_graphql_compiled_reads_total", labels) or 0.0


def test_a_compiled_document_is_answered_by_the_lean_route_byte_for_byte(
    api: Api, monkeypatch: pytest.MonkeyPatch, executed: list[str]
) -> None:
    w = World(api)
    _history(w)
    body = _body(FULL, {"n": 100})
    bearer = {"Authorization": f"Bearer {w.hr}"}
    executed.clear()
    first = _send(api, body, bearer)  # the app's path compiles the text
    assert first.status_code == 200 and executed == [FULL]
    served = _count("served")
    for token in (w.hr, w.manager, w.employee, w.stranger, w.integration):
        for accept in ({}, {"Accept": "application/graphql-response+json"}, {"Accept": "*/*"}):
            headers = {"Authorization": f"Bearer {token}"} | accept
            executed.clear()
            lean, app = _both(api, monkeypatch, body, headers)
            assert executed == [FULL]  # the app's path only
            _identical(lean, app)
            assert lean.status_code == 200 and "errors" not in lean.json()
    assert _count("served") == served + 2 * 15
    # A page with a cursor, and the operation named.
    cursor = first.json()["data"]["agreements"]["pageInfo"]["endCursor"]
    named = _body(FULL, {"n": 1, "after": cursor}, operationName="Sync")
    _send(api, named, bearer)
    executed.clear()
    lean, app = _both(api, monkeypatch, named, bearer)
    assert executed == [FULL]
    _identical(lean, app)


def test_every_refusal_is_the_apps_own(
    api: Api, monkeypatch: pytest.MonkeyPatch, executed: list[str]
) -> None:
    w = World(api)
    _history(w)
    hr = {"Authorization": f"Bearer {w.hr}"}
    assert _send(api, _body(FULL, {"n": 5}), hr).status_code == 200  # compiled from here
    other_secret = mint_token(uuid4().hex * 2, "hr-x", [Role.HR], timedelta(hours=1))
    expired = mint_token(api.secret, "hr-x", [Role.HR], timedelta(seconds=-5))
    no_role = mint_token(api.secret, "nobody-x", [], timedelta(hours=1))
    good = _body(FULL, {"n": 5})
    cases: list[tuple[bytes, dict[str, str]]] = [
        (good, {}),  # no token
        (good, {"Authorization": "Bearer"}),
        (good, {"Authorization": "Basic dXNlcjpwYXNz"}),
        (good, {"Authorization": "Bearer not.a.jwt"}),
        (good, {"Authorization": f"Bearer {other_secret}"}),
        (good, {"Authorization": f"Bearer {expired}"}),
        (good, {"Authorization": f"Bearer {no_role}"}),
        (b"{not json", hr),
        (b"", hr),
        (b"[]", hr),
        (b'"a string"', hr),
        (b"null", hr),
        (json.dumps([{"query": FULL, "variables": {"n": 5}}]).encode(), hr),  # a batch
        (_body(FULL, ["n", 5]), hr),  # variables not an object
        (_body(FULL, {"n": 5}, operationName=7), hr),
        (_body(FULL, {"n": 5}, operationName="Nope"), hr),
        (_body(FULL, {"n": 5}, extensions={"x": 1}), hr),
        (_body(FULL, {"n": 5}, extensions="x"), hr),
        (json.dumps({"query": 5}).encode(), hr),
        (_body(FULL, {"n": "five"}), hr),  # variables of the wrong type
        (_body(FULL, {"n": 5, "f": {"status": "NOT_A_STATUS"}}), hr),
        (_body(FULL, {"n": 5, "f": {"status": 3}}), hr),
        (_body(FULL, {}), hr),  # a required variable missing
        (_body(FULL, {"n": 101}), hr),  # refused by the resolvers' own check
        (_body(FULL, {"n": 5, "after": "bm90LWEtY3Vyc29y"}), hr),
        (_body(FULL, {"n": 5, "after": "a\x00b"}), hr),  # NUL in a variable
        (_body(FULL, {"n": 5, "f": {"teamId": "\ud800"}}), hr),
        (_body(FULL, {"n": 5}), hr | {"content-type": "text/plain"}),
        (_body(FULL, {"n": 5}), hr | {"content-type": "application/json; charset=latin-1"}),
        (_body(FULL, {"n": 5}), hr | {"Accept": "text/event-stream"}),
        (_body(FULL, {"n": 5}), hr | {"Accept": "multipart/mixed"}),
        (b'{"query": "' + b"x" * 1_000_001 + b'"}', hr),  # too large
    ]
    for body, headers in cases:
        lean, app = _both(api, monkeypatch, body, headers)
        _identical(lean, app)
    # The lean route itself answered none of these with an error: every refusal above
    # that reached execution was executed by strawberry on both paths.
    executed.clear()
    lean, app = _both(api, monkeypatch, _body(FULL, {"n": 101}), hr)
    assert executed == [FULL, FULL]


def test_a_fallback_is_counted_and_the_caller_checked_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arguments the plan declines go to the resolvers once (one `fallback`), and the
    caller's rate limit is taken once per request on either path."""
    with serving(postgres_url, rate_limit_per_second=0.001, rate_limit_burst=4) as api:
        World(api)
        # A caller of its own: the world's setup spent its callers' budgets.
        token = mint_token(api.secret, f"hr-{uuid4().hex[:8]}", [Role.HR], timedelta(hours=1))
        hr = {"Authorization": f"Bearer {token}"}
        assert _send(api, _body(FULL, {"n": 5}), hr).status_code == 200  # compiled: 1 taken
        fallbacks = _count("fallback")
        refused = _send(api, _body(FULL, {"n": 101}), hr)  # 2
        assert refused.status_code == 200 and refused.json()["errors"]
        assert _count("fallback") == fallbacks + 1
        assert _send(api, _body(FULL, {"n": 5}), hr).status_code == 200  # 3
        assert _send(api, _body(FULL, {"n": 5}), hr).status_code == 200  # 4
        limited = _send(api, _body(FULL, {"n": 5}), hr)
        assert limited.status_code == 429
        app = _via_app(api, monkeypatch, _body(FULL, {"n": 5}), hr)
        assert app.status_code == 429
        assert app.json() == limited.json() and app.headers.raw == limited.headers.raw
