"""Webhook subscriptions through GraphQL: who may manage them, bad input, refused
receivers (server-side request forgery), and secrets shown once and nowhere else."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from api.graphql.compiled.columns import ROOT_LISTS
from domain.values import Role
from infra.webhooks.secrets import key_of
from infra.webhooks.tables import secrets as secret_table
from tests.e2e.conftest import Api
from tests.e2e.web import sign_in
from tests.e2e.webhooks_support import (
    CREATE,
    DELIVERIES,
    LIST,
    change,
    subscribe,
    webhook_service,
)
from tests.e2e.world import World
from tests.processes import eventually

PUBLIC = "https://hooks.example.com/crafting"  # resolves nowhere here: refused as such
EMBEDDING_OR_SPECIAL = [
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[::7f00:1]",  # IPv4-compatible 127.0.0.1
    "[::a9fe:a9fe]",  # IPv4-compatible 169.254.169.254
    "[64:ff9b:1::a00:1]",  # local-use NAT64 of 10.0.0.1
    "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
    "[::ffff:0:a9fe:a9fe]",  # IPv4-translated 169.254.169.254
    "[fec0::1]",  # deprecated site-local
    "192.0.0.8",  # IETF protocol assignments
    "192.88.99.1",  # deprecated 6to4 relay anycast
]


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """For checks of input alone: the embedded database is enough."""
    return f"sqlite:///{tmp_path}/crafting.db"


def _create(api: Api, token: str, url: str, types: list[str] | None = None) -> dict:
    kinds = ["*"] if types is None else types
    body = api.gql(token, CREATE, input={"url": url, "eventTypes": kinds})
    return body


def _listed(api: Api, token: str) -> list[dict]:
    return [e["node"] for e in api.data(token, LIST)["webhookSubscriptions"]["edges"]]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hooks",
        "http://localhost:9/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/hooks",
        "http://[::ffff:127.0.0.1]:9/hooks",
        "http://0.0.0.0:9/hooks",
        # IPv6 forms that embed a private IPv4 address, deprecated and special ranges.
        *(f"http://{host}/hooks" for host in EMBEDDING_OR_SPECIAL),
    ],
)
def test_private_loopback_and_link_local_receivers_are_refused(
    sqlite_database_url: str, url: str
) -> None:
    with webhook_service(sqlite_database_url, webhooks_allow_private=False) as api:
        world = World(api)
        before = api.position()
        body = _create(api, world.integration, url)["data"]["createWebhookSubscription"]
        assert body["subscription"] is None and body["secret"] is None
        (error,) = body["userErrors"]
        assert error["field"] == "url" and "private, loopback or link-local" in error["message"]
        assert api.position() == before  # nothing recorded


def test_urls_must_be_https_outside_development(sqlite_database_url: str) -> None:
    with webhook_service(sqlite_database_url, dev=False) as api:
        world = World(api)
        body = _create(api, world.integration, "http://hooks.example.com/x")
        (error,) = body["data"]["createWebhookSubscription"]["userErrors"]
        assert error["field"] == "url" and "https" in error["message"]


@pytest.mark.parametrize(
    ("url", "types", "field"),
    [
        ("ftp://example.com/x", ["*"], "url"),
        ("https://user:pw@example.com/x", ["*"], "url"),
        ("not a url", ["*"], "url"),
        ("http://127.0.0.1:9/x", [], "eventTypes"),
        ("http://127.0.0.1:9/x", ["Proposed", "NoSuchEvent"], "eventTypes"),
        ("http://127.0.0.1:9/x", ["*", "Proposed"], "eventTypes"),
        (PUBLIC, ["*"], "url"),  # does not resolve
    ],
)
def test_bad_input_is_a_user_error_and_records_nothing(
    sqlite_database_url: str, url: str, types: list[str], field: str
) -> None:
    with webhook_service(sqlite_database_url) as api:
        world = World(api)
        before = api.position()
        body = _create(api, world.integration, url, types)
        payload = body["data"]["createWebhookSubscription"]
        assert payload["subscription"] is None
        assert [e["field"] for e in payload["userErrors"]] == [field]
        assert payload["userErrors"][0]["code"] == "INVALID_INPUT"
        assert api.position() == before


def test_only_hr_and_integrations_manage_subscriptions_and_integrations_their_own(
    prepared_database_url: str,
) -> None:
    with webhook_service(prepared_database_url) as api:
        world = World(api)
        other = api.token(f"personio-{world.s}", Role.INTEGRATION)
        for token in (world.employee, world.manager, world.auditor):
            body = _create(api, token, "http://127.0.0.1:9/x")
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert body["data"] is None
        mine = subscribe(api, world.integration, "http://127.0.0.1:9/mine")
        theirs = subscribe(api, other, "http://127.0.0.1:9/theirs")
        sid = mine["subscription"]["id"]
        assert eventually(lambda: len(_listed(api, world.hr)) >= 2, 30)
        assert [n["url"] for n in _listed(api, world.integration)] == ["http://127.0.0.1:9/mine"]
        assert [n["url"] for n in _listed(api, other)] == ["http://127.0.0.1:9/theirs"]
        assert {n["id"] for n in _listed(api, world.hr)} >= {sid, theirs["subscription"]["id"]}
        refused = api.gql(
            other,
            "mutation($i: WebhookSubscriptionInput!) { pauseWebhookSubscription(input: $i) "
            "{ subscription { status } } }",
            i={"subscriptionId": sid},
        )
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        peek = api.gql(other, DELIVERIES, id=sid, first=10, after=None)
        assert peek["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert change(api, world.hr, "pauseWebhookSubscription", sid)["userErrors"] == []


def test_a_change_that_does_not_apply_is_a_user_error(sqlite_database_url: str) -> None:
    with webhook_service(sqlite_database_url) as api:
        world = World(api)
        sid = subscribe(api, world.integration, "http://127.0.0.1:9/x")["subscription"]["id"]
        again = change(api, world.integration, "resumeWebhookSubscription", sid)
        assert again["subscription"] is None
        assert again["userErrors"][0]["code"] == "INVALID_TRANSITION"
        gone = change(api, world.integration, "deleteWebhookSubscription", sid)
        assert gone["subscription"]["status"] == "DELETED"
        after = change(api, world.integration, "rotateWebhookSecret", sid)
        assert after["secret"] is None and after["userErrors"][0]["code"] == "INVALID_TRANSITION"
        bad = change(api, world.integration, "pauseWebhookSubscription", "nonsense")
        assert bad["userErrors"][0]["field"] == "subscriptionId"
        assert eventually(lambda: sid not in {n["id"] for n in _listed(api, world.hr)}, 30)


def test_the_secret_is_shown_once_and_never_in_the_audit_log_or_change_feed(
    prepared_database_url: str,
) -> None:
    with webhook_service(prepared_database_url) as api:
        world = World(api)
        created = subscribe(api, world.integration, "http://127.0.0.1:9/x")
        sid = created["subscription"]["id"]
        rotated = change(api, world.integration, "rotateWebhookSecret", sid)
        secrets = {created["secret"], rotated["secret"]}
        assert all(s.startswith("whsec_") for s in secrets) and len(secrets) == 2
        paused = change(api, world.integration, "pauseWebhookSubscription", sid)
        assert paused["secret"] is None
        world.sync()
        feed = api.data(
            world.hr, "query { changes(first: 100) { edges { node { streamType type payload } } } }"
        )
        audit = api.data(
            world.auditor,
            "query { auditLog(first: 100) { edges { node { streamType type payload } } } }",
        )
        text = json.dumps([feed, audit, _listed(api, world.hr)])
        assert "SecretRotated" in text and "WEBHOOK" in text
        for secret in secrets:
            assert secret not in text
            assert secret.removeprefix("whsec_") not in text
        stored = api.container.app.recorder.select_notifications(1, 10_000)
        raw = b"".join(n.state for n in stored)
        for secret in secrets:
            assert secret.removeprefix("whsec_").encode() not in raw
        # Their own table holds them wrapped by the master key: a dump cannot sign.
        with api.container.engines.reader.connect() as conn:
            kept = [r.secret for r in conn.execute(select(secret_table.c.secret))]
        assert len(kept) == 2 and all(k.startswith("k1.") for k in kept)
        for secret in secrets:
            key = key_of(secret)
            assert secret not in kept and not any(base64.b64encode(key).decode() in k for k in kept)


def test_concurrent_rotations_each_get_their_own_secret_or_a_clean_conflict(
    prepared_database_url: str,
) -> None:
    with webhook_service(prepared_database_url) as api:
        world = World(api)
        sid = subscribe(api, world.integration, "http://127.0.0.1:9/x")["subscription"]["id"]
        results: list[dict] = []

        def rotate() -> None:
            for _ in range(4):
                results.append(change(api, world.integration, "rotateWebhookSecret", sid))

        threads = [threading.Thread(target=rotate) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        done = [r for r in results if not r["userErrors"]]
        refused = [r for r in results if r["userErrors"]]
        assert len(results) == 12
        assert all(r["userErrors"][0]["code"] == "VERSION_CONFLICT" for r in refused)
        assert len({r["secret"] for r in done}) == len(done) >= 1
        rotated = 'query { auditLog(first: 100, filter: {types: ["SecretRotated"]}) { edges { cursor } } }'

        def recorded() -> int:
            return len(api.data(world.auditor, rotated)["auditLog"]["edges"])

        assert eventually(lambda: recorded() == len(done), 30)


def test_a_receivers_url_is_shown_only_to_who_manages_the_subscription(
    prepared_database_url: str,
) -> None:
    """The change feed and the audit log show a subscription's receiver (scheme, host,
    port) to every reader; the path and query, which often hold the receiver's own
    token, only `webhookSubscriptions` shows, to the owner and HR."""
    with webhook_service(prepared_database_url) as api:
        world = World(api)
        url = "http://127.0.0.1:9/hooks/workday?token=tok-5ecret-of-workday"
        created = subscribe(api, world.integration, url)
        world.sync()
        other = api.token(f"personio-{world.s}", Role.INTEGRATION)
        feed = api.data(
            other, "query { changes(first: 100) { edges { node { streamType payload } } } }"
        )["changes"]["edges"]
        audit = api.data(
            world.auditor,
            """query { auditLog(first: 100, filter: {types: ["Created"]}) {
              edges { node { streamType payload } } } }""",
        )["auditLog"]["edges"]
        # Both are served by their resolvers: the compiled path (one SQL statement per
        # document) serves neither; should it ever, it reads the same payload column.
        assert not {"changes", "auditLog"} & set(ROOT_LISTS)
        for edges in (feed, audit):
            (shown,) = [e["node"]["payload"] for e in edges if e["node"]["streamType"] == "WEBHOOK"]
            assert shown["receiver"] == "http://127.0.0.1:9" and "url" not in shown
            text = json.dumps(edges)
            assert "tok-5ecret" not in text and "/hooks/workday" not in text
        # The web's audit pages read the same rows.
        auditor = sign_in(api.client, api.secret, f"auditor-{world.s}", Role.AUDITOR)
        page = auditor.get("/audit", params={"types": "Created"})
        assert page.status_code == 200 and "Webhook" in page.text
        assert "tok-5ecret" not in page.text
        # Whoever manages it reads it whole; another integration is refused.
        assert [n["url"] for n in _listed(api, world.integration)] == [url]
        assert url in {n["url"] for n in _listed(api, world.hr)}
        assert created["subscription"]["id"] not in {n["id"] for n in _listed(api, other)}
