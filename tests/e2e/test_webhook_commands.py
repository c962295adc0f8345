"""Webhook subscription commands run through the one `execute`, like agreement
commands: idempotency keys (replay and reuse), expected versions, concurrent writers,
the commands metric — and a subscription's reason is handled as decided (in clear: an
operator's note about an integration), while an agreement's is sealed."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from api.graphql.webhooks.types import subscription_uuid
from domain.sealing import Sealed
from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.webhooks_support import deliveries, webhook_service
from tests.e2e.world import World
from tests.processes import eventually

CREATE = """mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    subscription { id status version } secret position version replayed
    userErrors { field message code } } }"""
CHANGE = """mutation($input: WebhookSubscriptionInput!) {{
  {name}(input: $input) {{ subscription {{ id status statusReason }} secret position
    version replayed userErrors {{ field message code }} }} }}"""
PAUSE_AGREEMENT = """mutation($input: AgreementCommandInput!) { pauseAgreement(input: $input) {
  position userErrors { code } } }"""
URL = "http://127.0.0.1:9/hooks"


def _create(api: Api, token: str, **input: Any) -> dict[str, Any]:
    body = api.data(token, CREATE, input={"url": URL, "eventTypes": ["*"], **input})
    payload: dict[str, Any] = body["createWebhookSubscription"]
    return payload


def _change(api: Api, token: str, name: str, sid: str, **input: Any) -> dict[str, Any]:
    body = api.data(token, CHANGE.format(name=name), input={"subscriptionId": sid, **input})
    payload: dict[str, Any] = body[name]
    return payload


def test_an_idempotency_key_replays_the_first_answer_and_refuses_other_input(
    prepared_database_url: str,
) -> None:
    with webhook_service(prepared_database_url) as api:
        w = World(api)
        first = _create(api, w.integration, idempotencyKey="create-1")
        assert first["userErrors"] == [] and first["replayed"] is False
        before = api.position()
        again = _create(api, w.integration, idempotencyKey="create-1")
        assert api.position() == before  # nothing recorded
        assert again["replayed"] is True
        # The same subscription, the same position, and the secret the first call
        # issued: a caller that lost the first answer is not left without it.
        for name in ("subscription", "position", "version", "secret"):
            assert again[name] == first[name], name
        reused = api.data(
            w.integration,
            CREATE,
            input={"url": URL + "/other", "eventTypes": ["*"], "idempotencyKey": "create-1"},
        )["createWebhookSubscription"]
        assert reused["subscription"] is None
        assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        # The key is the caller's: another integration's same key is its own command.
        other = api.token(f"personio-{w.s}", Role.INTEGRATION)
        theirs = _create(api, other, idempotencyKey="create-1")
        assert theirs["replayed"] is False
        assert theirs["subscription"]["id"] != first["subscription"]["id"]

        sid = first["subscription"]["id"]
        paused = _change(
            api,
            w.integration,
            "pauseWebhookSubscription",
            sid,
            reason="Cut-over",
            idempotencyKey="p",
        )
        assert paused["subscription"]["status"] == "PAUSED" and paused["version"] == 2
        before = api.position()
        replay = _change(
            api,
            w.integration,
            "pauseWebhookSubscription",
            sid,
            reason="Cut-over",
            idempotencyKey="p",
        )
        assert replay["replayed"] is True and replay["userErrors"] == []
        assert replay["position"] == paused["position"] and replay["version"] == 2
        assert api.position() == before
        different = _change(
            api, w.integration, "pauseWebhookSubscription", sid, reason="Other", idempotencyKey="p"
        )
        assert [e["code"] for e in different["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        # A rotation replayed shows the secret it issued, not a new one.
        rotated = _change(api, w.integration, "rotateWebhookSecret", sid, idempotencyKey="r")
        replayed = _change(api, w.integration, "rotateWebhookSecret", sid, idempotencyKey="r")
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != first["secret"]
        assert replayed["secret"] == rotated["secret"] and replayed["replayed"] is True


def test_an_expected_version_that_moved_on_records_nothing(prepared_database_url: str) -> None:
    with webhook_service(prepared_database_url) as api:
        w = World(api)
        created = _create(api, w.integration)
        sid, version = created["subscription"]["id"], created["version"]
        assert version == 1
        paused = _change(api, w.integration, "pauseWebhookSubscription", sid, expectedVersion=1)
        assert paused["userErrors"] == [] and paused["version"] == 2
        before = api.position()
        stale = _change(api, w.integration, "resumeWebhookSubscription", sid, expectedVersion=1)
        assert stale["subscription"] is None
        (error,) = stale["userErrors"]
        assert error["code"] == "VERSION_CONFLICT" and error["field"] == "expectedVersion"
        assert api.position() == before
        stale_rotation = _change(api, w.integration, "rotateWebhookSecret", sid, expectedVersion=1)
        assert stale_rotation["secret"] is None
        assert stale_rotation["userErrors"][0]["code"] == "VERSION_CONFLICT"
        assert api.position() == before
        # No secret was left behind by the refused rotation: only generation 1 signs.
        assert (
            len(api.container.subscriptions.secrets.signing_keys(str(subscription_uuid(sid)), 0))
            == 1
        )
        resumed = _change(api, w.integration, "resumeWebhookSubscription", sid, expectedVersion=2)
        assert resumed["subscription"]["status"] == "ACTIVE" and resumed["version"] == 3


@pytest.mark.postgres
def test_concurrent_commands_on_one_subscription_apply_one_at_a_time(postgres_url: str) -> None:
    with webhook_service(postgres_url) as api:
        w = World(api)
        sid = _create(api, w.integration)["subscription"]["id"]
        results: list[dict[str, Any]] = []
        lock = threading.Lock()
        start = threading.Barrier(8)

        def pause() -> None:
            start.wait()
            found = _change(api, w.integration, "pauseWebhookSubscription", sid, expectedVersion=1)
            with lock:
                results.append(found)

        threads = [threading.Thread(target=pause) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        # Eight writers against version 1: exactly one applies, the others are told.
        applied = [r for r in results if not r["userErrors"]]
        assert len(results) == 8 and len(applied) == 1
        assert {r["userErrors"][0]["code"] for r in results if r["userErrors"]} == {
            "VERSION_CONFLICT"
        }
        sub = api.container.app.load_subscription(subscription_uuid(sid))
        assert sub is not None and sub.version == 2

        # Eight writers with one idempotency key: one subscription, seven replays.
        created: list[dict[str, Any]] = []
        gate = threading.Barrier(8)

        def create() -> None:
            gate.wait()
            found = _create(api, w.integration, idempotencyKey="burst")
            with lock:
                created.append(found)

        threads = [threading.Thread(target=create) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert all(r["userErrors"] == [] for r in created), created
        assert len({r["subscription"]["id"] for r in created}) == 1
        assert sorted(r["replayed"] for r in created) == [False] + [True] * 7
        assert len({r["secret"] for r in created}) == 1


def test_refusals_are_mapped_and_counted_like_every_command(prepared_database_url: str) -> None:
    with webhook_service(prepared_database_url) as api:
        w = World(api)
        sid = _create(api, w.integration)["subscription"]["id"]
        stale = _change(api, w.integration, "pauseWebhookSubscription", sid, expectedVersion=7)
        assert stale["userErrors"][0]["code"] == "VERSION_CONFLICT"
        refused = api.gql(
            w.employee,
            CHANGE.format(name="pauseWebhookSubscription"),
            input={"subscriptionId": sid},
        )
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        auth = {"Authorization": f"Bearer {w.integration}"}
        metrics = api.client.get("/metrics", headers=auth).text
        for command, outcome in (
            ("CreateWebhookSubscription", "OK"),
            ("PauseWebhookSubscription", "VERSION_CONFLICT"),
            ("PauseWebhookSubscription", "FORBIDDEN"),
        ):
            assert f'code="{outcome}",command="{command}"' in metrics, (command, outcome)


def test_a_pause_reason_is_sealed_on_an_agreement_and_in_clear_on_a_subscription(
    prepared_database_url: str,
) -> None:
    """Decided: an agreement's reason is about its employee (sealed under their key);
    a subscription's is an operator's note about an integration (docs/integration.md, "Reasons")."""
    with webhook_service(prepared_database_url) as api:
        w = World(api)
        agreement = w.active()
        said = "Parental leave until June"
        paused = api.data(
            w.manager, PAUSE_AGREEMENT, input={"agreementId": agreement["id"], "reason": said}
        )["pauseAgreement"]
        assert paused["userErrors"] == []
        sub = _create(api, w.integration)
        note = "Receiver migrating to the new cluster"
        changed = _change(
            api, w.integration, "pauseWebhookSubscription", sub["subscription"]["id"], reason=note
        )
        assert changed["subscription"]["statusReason"] == note
        stored = {
            n.id: json.loads(n.state)
            for n in api.container.app.recorder.select_notifications(1, 10_000)
        }
        agreement_reason = stored[paused["position"]]["reason"]
        assert said not in json.dumps(agreement_reason)
        Sealed(agreement_reason)  # an envelope, or this raises
        assert stored[changed["position"]]["reason"] == note
        # Both read back as written, by those allowed to see them.
        w.sync()
        log = api.data(
            w.auditor, "query { auditLog(first: 100) { edges { node { type reason } } } }"
        )["auditLog"]["edges"]
        assert {said, note} <= {e["node"]["reason"] for e in log}


FEED = """query($p: Int) { changes(first: 100, consistentWith: $p) { edges { node {
  streamType streamId agreementId agreementUuid subscriptionId } } } }"""
READ = "query($id: ID!) { agreement(id: $id) { id } }"


def test_the_feed_names_agreements_and_subscriptions_both_ways(prepared_database_url: str) -> None:
    with webhook_service(prepared_database_url) as api:
        w = World(api)
        agreement = w.propose()
        created = _create(api, w.integration)
        sid = created["subscription"]["id"]
        feed = api.data(w.hr, FEED, p=created["position"])["changes"]["edges"]
        nodes = [e["node"] for e in feed]
        (mine,) = [n for n in nodes if n["agreementId"] == agreement["id"]]
        assert mine["agreementUuid"] == mine["streamId"]
        # The bare UUID reaches the agreement as its global id does.
        found = api.data(w.hr, READ, id=mine["agreementUuid"])["agreement"]
        assert found["id"] == agreement["id"]
        (hook,) = [n for n in nodes if n["streamType"] == "WEBHOOK"]
        assert hook["subscriptionId"] == sid  # as webhookSubscriptions names it
        assert hook["streamId"] == str(subscription_uuid(sid))
        assert hook["agreementId"] is None and hook["agreementUuid"] is None
        assert all(n["subscriptionId"] is None for n in nodes if n["streamType"] != "WEBHOOK")


LISTED = """{ webhookSubscriptions(first: 100) { edges { node { id status version } } } }"""


def test_a_listed_subscription_carries_the_version_to_pass_as_expected_version(
    prepared_database_url: str,
) -> None:
    # A client that did not make the last change (another operator, a restart) reads the
    # version from the list, beside the status it goes with, and commands with it.
    with webhook_service(prepared_database_url) as api:
        w = World(api)
        created = _create(api, w.integration)
        sid = created["subscription"]["id"]
        rotated = _change(api, w.integration, "rotateWebhookSecret", sid)
        assert rotated["version"] == 2 and created["subscription"]["version"] == 1

        def listed() -> dict[str, Any]:
            edges = api.data(w.integration, LISTED)["webhookSubscriptions"]["edges"]
            return next((e["node"] for e in edges if e["node"]["id"] == sid), {"version": 0})

        # The list follows the log: wait for the delivery worker to plan the rotation.
        assert eventually(lambda: listed()["version"] == rotated["version"], timeout=20)
        node = listed()
        assert node["status"] == "ACTIVE"
        paused = _change(
            api, w.integration, "pauseWebhookSubscription", sid, expectedVersion=node["version"]
        )
        assert paused["userErrors"] == [] and paused["version"] == 3
        stale = _change(
            api, w.integration, "resumeWebhookSubscription", sid, expectedVersion=node["version"]
        )
        assert [e["code"] for e in stale["userErrors"]] == ["VERSION_CONFLICT"]


REDELIVER = """mutation($input: RedeliverWebhooksInput!) { redeliverWebhooks(input: $input) {
  queued position version replayed userErrors { field code } } }"""


def test_a_redelivery_is_a_command_like_the_others(prepared_database_url: str) -> None:
    # Authorization, expected version, idempotency key, the metric and the audit log, as
    # for every other command: a retried redelivery queues nothing a second time.
    with webhook_service(prepared_database_url) as api:
        w = World(api)
        created = _create(api, w.integration)
        sid = created["subscription"]["id"]
        low = api.position() + 1
        w.active()
        high = api.position()
        in_range = [d for d in range(low, high + 1)]
        # The worker queues the agreement's events for the subscription as it reaches them.
        assert eventually(
            lambda: (
                len([d for d in deliveries(api, w.integration, sid) if d["position"] in in_range])
                == len(in_range)
            ),
            timeout=30,
        )
        asked = {"subscriptionId": sid, "fromPosition": low, "toPosition": high}

        def redeliver(token: str, **extra: Any) -> dict[str, Any]:
            body = api.gql(token, REDELIVER, input={**asked, **extra})
            return body["data"]["redeliverWebhooks"] if body.get("data") else body

        stale = redeliver(w.integration, expectedVersion=created["version"] + 1)
        assert [e["code"] for e in stale["userErrors"]] == ["VERSION_CONFLICT"]
        foreign = redeliver(api.token(f"personio-{w.s}", Role.INTEGRATION))
        assert foreign["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        first = redeliver(w.integration, expectedVersion=created["version"], idempotencyKey="r1")
        assert first["userErrors"] == [] and first["replayed"] is False
        assert first["queued"] == len(in_range) and first["version"] == 2
        before = api.position()
        again = redeliver(w.integration, expectedVersion=created["version"], idempotencyKey="r1")
        assert again["replayed"] is True and again["position"] == first["position"]
        assert again["queued"] == first["queued"] and api.position() == before
        other = redeliver(w.integration, idempotencyKey="r1", fromPosition=high)
        assert [e["code"] for e in other["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]

        auth = {"Authorization": f"Bearer {w.integration}"}
        metrics = api.client.get("/metrics", headers=auth).text
        for outcome in ("OK", "VERSION_CONFLICT", "FORBIDDEN"):
            assert f'code="{outcome}",command="RedeliverWebhooks"' in metrics, outcome
        audit = api.data(
            w.auditor,
            "query($p: Int) { auditLog(first: 5, consistentWith: $p) "
            "{ edges { node { type position actorId idempotencyKey } } } }",
            p=first["position"],
        )
        assert {
            "type": "RedeliveryRequested",
            "position": first["position"],
            "actorId": f"workday-{w.s}",
            "idempotencyKey": "r1",
        } in [e["node"] for e in audit["auditLog"]["edges"]]
