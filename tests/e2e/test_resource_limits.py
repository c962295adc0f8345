"""What one caller may cost the service: SCIM filters, webhook subscriptions per
integration, the time a request body may take, `/metrics` requests, and the codes on
GraphQL's complexity refusals."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from api.graphql.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from api.http.auth import mint_token
from domain.values import Role
from tests.e2e.conftest import Api, serving
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.webhooks_support import CREATE, LIST, change, webhook_service
from tests.e2e.world import World
from tests.processes import eventually, free_port, get, running, service_env, start

SCIM = {"Content-Type": "application/scim+json"}
MAX_FILTER_TERMS = 20  # api.scim.filters: what one filter may compare


def _filter(terms: int) -> str:
    return " or ".join(f'id eq "n{i}"' for i in range(terms))


def test_a_scim_filter_with_too_many_comparisons_is_refused_before_it_costs(api: Api) -> None:
    token = api.token(f"okta-{uuid4().hex[:6]}", Role.INTEGRATION)
    headers = SCIM | {"Authorization": f"Bearer {token}"}
    started = time.process_time()
    refused = api.client.get("/scim/v2/Users", params={"filter": _filter(600)}, headers=headers)
    assert refused.status_code == 400, refused.text
    assert refused.json()["scimType"] == "invalidFilter"
    assert time.process_time() - started < 1.0
    one_too_many = _filter(MAX_FILTER_TERMS + 1)
    refused = api.client.get("/scim/v2/Users", params={"filter": one_too_many}, headers=headers)
    assert refused.status_code == 400, refused.text
    assert f"at most {MAX_FILTER_TERMS} comparisons" in refused.json()["detail"]
    # The same through POST /.search, and a filter too long to be worth parsing.
    search = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
    too_long = 'userName eq "' + "x" * 3000 + '"'
    for body in (search | {"filter": _filter(600)}, search | {"filter": too_long}):
        posted = api.client.post("/scim/v2/Users/.search", json=body, headers=headers)
        assert posted.status_code == 400, posted.text
        assert posted.json()["scimType"] == "invalidFilter"
    nested = "(" * 12 + 'userName eq "a"' + ")" * 12
    nested_not = "not (" * 12 + 'userName eq "a"' + ")" * 12
    for deep in (nested, nested_not):
        answered = api.client.get("/scim/v2/Users", params={"filter": deep}, headers=headers)
        assert answered.status_code in (200, 400), answered.text
    # What identity providers send is answered as before.
    allowed = api.client.get(
        "/scim/v2/Users", params={"filter": _filter(MAX_FILTER_TERMS)}, headers=headers
    )
    assert allowed.status_code == 200, allowed.text


@pytest.mark.parametrize(
    "query",
    [
        "{ agreements { edges { node { employee { "
        + "manager { " * MAX_DEPTH
        + "id"
        + " }" * (MAX_DEPTH + 4)
        + " }",
        "{" + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1)) + "}",
        "{" + " ".join("__typename" for _ in range(MAX_TOKENS + 1)) + "}",
    ],
    ids=["depth", "aliases", "tokens"],
)
def test_depth_alias_and_token_refusals_carry_query_too_complex(api: Api, query: str) -> None:
    token = api.token(f"hr-{uuid4().hex[:6]}", Role.HR)
    body = api.gql(token, query)
    codes = {e.get("extensions", {}).get("code") for e in body["errors"]}
    assert "QUERY_TOO_COMPLEX" in codes, body


def test_metrics_counts_against_the_callers_rate_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/crafting.db"
    with serving(url, rate_limit_per_second=0.1, rate_limit_burst=3) as api:
        headers = {"Authorization": f"Bearer {api.token('prometheus', Role.AUDITOR)}"}
        statuses = [api.client.get("/metrics", headers=headers).status_code for _ in range(5)]
        assert statuses[:3] == [200, 200, 200]
        refused = api.client.get("/metrics", headers=headers)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        # Another caller has a budget of its own.
        other = {"Authorization": f"Bearer {api.token('grafana', Role.HR)}"}
        assert api.client.get("/metrics", headers=other).status_code == 200


def _created(api: Api, token: str) -> dict:
    body = api.gql(token, CREATE, input={"url": "http://127.0.0.1:9/h", "eventTypes": ["*"]})
    assert "errors" not in body, body
    payload: dict = body["data"]["createWebhookSubscription"]
    return payload


def _listed(api: Api, token: str) -> list[dict]:
    return [e["node"] for e in api.data(token, LIST)["webhookSubscriptions"]["edges"]]


def test_an_integration_holds_at_most_the_configured_webhook_subscriptions(
    database_url: str,
) -> None:
    with webhook_service(database_url, webhooks_max_subscriptions=3) as api:
        world = World(api)
        results = [_created(api, world.integration) for _ in range(10)]  # as fast as it can
        done = [r for r in results if not r["userErrors"]]
        refused = [r["userErrors"][0] for r in results if r["userErrors"]]
        assert len(done) == 3 and len(refused) == 7
        assert {e["code"] for e in refused} == {"LIMIT_REACHED"}
        assert "at most 3 webhook subscriptions" in refused[0]["message"]
        assert all(r["secret"] is None and r["subscription"] is None for r in results[3:])
        assert eventually(lambda: len(_listed(api, world.integration)) == 3, 30)
        # Deleting one makes room for one; another integration has room of its own.
        sid = done[0]["subscription"]["id"]
        assert change(api, world.integration, "deleteWebhookSubscription", sid)["userErrors"] == []
        assert _created(api, world.integration)["userErrors"] == []
        assert _created(api, world.integration)["userErrors"] != []
        other = api.token(f"okta-{world.s}", Role.INTEGRATION)
        assert _created(api, other)["userErrors"] == []


def test_concurrent_creations_never_pass_the_webhook_subscription_cap(database_url: str) -> None:
    with webhook_service(database_url, webhooks_max_subscriptions=3) as api:
        world = World(api)
        results: list[dict] = []

        def create() -> None:
            for _ in range(3):
                results.append(_created(api, world.integration))

        threads = [threading.Thread(target=create) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(results) == 18
        done = [r for r in results if not r["userErrors"]]
        assert len(done) <= 3
        assert all(
            r["userErrors"][0]["code"] == "LIMIT_REACHED" for r in results if r["userErrors"]
        )
        # Whatever the race left, the integration can fill its room and no more.
        for _ in range(5):
            _created(api, world.integration)
        assert eventually(lambda: len(_listed(api, world.integration)) == 3, 30)
        assert len(_listed(api, world.integration)) == 3


def _read_response(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        pass
    except ConnectionResetError:
        # The server answered and closed; a byte the client trickled after that close
        # makes the peer reset the connection: what arrived before is the answer.
        pass
    return received


def test_a_slow_body_is_cut_off_and_scim_authenticates_before_reading_one(
    tmp_path: Path,
) -> None:
    """Against a real `crafting serve` over a socket: a client trickling its body gets
    408 at the deadline and the connection is closed; SCIM refuses a bad token without
    waiting for the body at all."""
    port, secret = free_port(), "slow-" + uuid4().hex + uuid4().hex
    env = service_env(
        f"sqlite:///{tmp_path}/crafting.db",
        CRAFTING_REQUEST_BODY_SECONDS="2",
        CRAFTING_JWT_SECRET=secret,
    )
    token = mint_token(secret, "okta", [Role.INTEGRATION], timedelta(hours=1))
    serve = start(["serve", "--port", str(port)], env, tmp_path / "serve")
    with running(serve):
        assert eventually(lambda: get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 60), (
            serve.output()
        )
        cases = [("/scim/v2/Users", "x.y.z"), ("/graphql", token), ("/scim/v2/Users", token)]
        for path, bearer in cases:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                started = time.monotonic()
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Authorization: Bearer {bearer}\r\nContent-Length: 100\r\n\r\n".encode()
                )
                answer, answered = b"", 0.0
                for _ in range(12):  # one byte every half second, never finishing in time
                    try:
                        sock.sendall(b"{")
                    except OSError:
                        break  # the server closed the connection
                    answer += _read_response(sock, 0.5)
                    if answer:
                        answered = time.monotonic() - started
                        break
                answer += _read_response(sock, 3)
                elapsed = answered or time.monotonic() - started
                status = answer.split(b"\r\n", 1)[0]
                if bearer != token:
                    assert status == b"HTTP/1.1 401 Unauthorized", answer
                    assert elapsed < 1.5, elapsed  # before the body, not after it
                else:
                    assert status == b"HTTP/1.1 408 Request Timeout", (path, answer)
                    assert 1.5 < elapsed < 5, elapsed
                    assert b"connection: close" in answer.lower()
        assert serve.alive, serve.output()
