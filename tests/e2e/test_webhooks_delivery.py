"""Webhook delivery end to end: the service (worker inside serve) on each database,
real receivers verifying every delivery with the `standardwebhooks` library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infra.webhooks.planner import queue_reminders
from tests.e2e.conftest import Api
from tests.e2e.webhooks_support import (
    LIST,
    REDELIVER,
    change,
    deliveries,
    subscribe,
    webhook_service,
    write_events,
)
from tests.e2e.world import World
from tests.processes import eventually
from tests.webhook_receiver import Receiver, in_order_per_agreement, receiving

REVIEW = """mutation($input: RecordReviewInput!) { recordReview(input: $input) {
  position userErrors { field message code } } }"""


def test_every_event_arrives_signed_once_in_order_despite_a_receiver_failing_half_the_time(
    prepared_database_url: str,
) -> None:
    with webhook_service(prepared_database_url) as api, receiving(fail_rate=0.5) as receiver:
        world = World(api)
        created = subscribe(api, world.integration, receiver.url)
        receiver.secrets = [created["secret"]]
        positions = write_events(api, world, agreements=4, revisions=5)
        assert eventually(lambda: len(receiver.accepted) >= len(positions), 90)
        assert receiver.requests > len(positions)  # it did fail, and was retried
        got = sorted(b["position"] for b in receiver.accepted if b["position"] in positions)
        assert got == sorted(positions)
        assert receiver.rejected == []
        assert in_order_per_agreement(receiver.accepted)
        assert len(receiver.ids()) == len(set(receiver.ids()))


def _pending_retries(api: Api, token: str, sid: str) -> bool:
    return any(d["attempts"] >= 2 and d["status"] == "PENDING" for d in deliveries(api, token, sid))


def test_a_receiver_that_times_out_gets_everything_once_the_attempts_are_bounded(
    prepared_database_url: str,
) -> None:
    # The receiver answers its first three requests after 3 s; attempts time out at 1 s.
    with (
        webhook_service(prepared_database_url) as api,
        receiving(slow_first=3, slow_seconds=3.0) as receiver,
    ):
        world = World(api)
        created = subscribe(api, world.integration, receiver.url)
        receiver.secrets = [created["secret"]]
        sid = created["subscription"]["id"]
        positions = write_events(api, world, agreements=2, revisions=2)
        assert eventually(lambda: len(receiver.accepted) >= len(positions), 90)
        log = deliveries(api, world.integration, sid)
        assert {d["status"] for d in log} == {"DELIVERED"}
        assert max(d["attempts"] for d in log) >= 2  # the timed-out ones were retried
        assert sorted(b["position"] for b in receiver.accepted) == sorted(positions)
        assert in_order_per_agreement(receiver.accepted)


def test_a_receiver_down_for_a_while_gets_everything_in_order_when_it_comes_back(
    prepared_database_url: str,
) -> None:
    with webhook_service(prepared_database_url) as api:
        world = World(api)
        receiver = Receiver()  # not listening yet: connections are refused
        created = subscribe(api, world.integration, receiver.url)
        receiver.secrets = [created["secret"]]
        sid = created["subscription"]["id"]
        positions = write_events(api, world, agreements=3, revisions=3)
        assert eventually(lambda: _pending_retries(api, world.integration, sid), 60)
        log = deliveries(api, world.integration, sid)
        head = min(log, key=lambda d: d["position"])
        assert head["lastError"] and head["nextAttemptAt"] is not None
        assert all(d["attempts"] == 0 for d in log if d is not head)  # nothing overtook it
        receiver.start()
        try:
            assert eventually(lambda: len(receiver.accepted) >= len(positions), 90)
            assert [b["position"] for b in receiver.accepted] == sorted(positions)
            assert receiver.duplicates == []
        finally:
            receiver.stop()


def test_a_paused_subscription_receives_nothing_and_resumes_where_it_left(
    prepared_database_url: str,
) -> None:
    with (
        webhook_service(prepared_database_url) as api,
        receiving() as paused,
        receiving() as witness,
    ):
        world = World(api)
        first = subscribe(api, world.integration, paused.url)
        other = subscribe(api, world.integration, witness.url)
        paused.secrets, witness.secrets = [first["secret"]], [other["secret"]]
        sid = first["subscription"]["id"]
        before = write_events(api, world, agreements=1, revisions=1)
        assert delivered_count(paused, len(before))
        pausing = change(api, world.integration, "pauseWebhookSubscription", sid, reason="audit")
        assert pausing["subscription"]["status"] == "PAUSED"
        during = write_events(api, world, agreements=2, revisions=2)
        # The witness got everything written while paused: the worker did run.
        assert eventually(lambda: len(witness.accepted) >= len(before) + len(during), 60)
        assert [b["position"] for b in paused.accepted] == sorted(before)
        resumed = change(api, world.integration, "resumeWebhookSubscription", sid)
        assert resumed["subscription"]["status"] == "ACTIVE"
        assert delivered_count(paused, len(before) + len(during))
        assert [b["position"] for b in paused.accepted] == sorted(before + during)
        assert paused.duplicates == []


def delivered_count(receiver: Receiver, count: int) -> bool:
    return eventually(lambda: len(receiver.accepted) >= count, 60)


def test_after_rotation_old_and_new_secrets_both_sign_during_the_grace_period(
    prepared_database_url: str,
) -> None:
    with (
        webhook_service(prepared_database_url) as api,
        receiving() as old_only,
        receiving() as new_only,
    ):
        world = World(api)
        a = subscribe(api, world.integration, old_only.url)
        b = subscribe(api, world.integration, new_only.url)
        rotated_a = change(api, world.integration, "rotateWebhookSecret", a["subscription"]["id"])
        rotated_b = change(api, world.integration, "rotateWebhookSecret", b["subscription"]["id"])
        assert rotated_a["secret"].startswith("whsec_") and rotated_a["secret"] != a["secret"]
        old_only.secrets = [a["secret"]]
        new_only.secrets = [rotated_b["secret"]]
        positions = write_events(api, world, agreements=1, revisions=1)
        assert delivered_count(old_only, len(positions))
        assert delivered_count(new_only, len(positions))
        assert old_only.rejected == new_only.rejected == []
        assert all(len(s.split()) == 2 for s in old_only.signatures)


def test_after_the_grace_period_only_the_new_secret_signs(prepared_database_url: str) -> None:
    with (
        webhook_service(prepared_database_url, webhooks_secret_grace_seconds=0) as api,
        receiving() as receiver,
    ):
        world = World(api)
        created = subscribe(api, world.integration, receiver.url)
        rotated = change(
            api, world.integration, "rotateWebhookSecret", created["subscription"]["id"]
        )
        receiver.secrets = [created["secret"]]  # the old secret only: refused
        positions = write_events(api, world, agreements=1, revisions=0)
        assert eventually(lambda: len(receiver.rejected) >= 1, 60)
        assert receiver.accepted == []
        receiver.secrets = [rotated["secret"]]
        assert delivered_count(receiver, len(positions))
        assert all(len(s.split()) == 1 for s in receiver.signatures)


def test_a_subscription_failing_too_long_is_disabled_says_why_and_resumes_from_there(
    prepared_database_url: str,
) -> None:
    with (
        webhook_service(prepared_database_url, webhooks_disable_after_seconds=1) as api,
        receiving(fail_rate=1.0) as receiver,
    ):
        world = World(api)
        created = subscribe(api, world.integration, receiver.url)
        receiver.secrets = [created["secret"]]
        sid = created["subscription"]["id"]
        positions = write_events(api, world, agreements=1, revisions=2)

        def disabled() -> bool:
            nodes = [
                e["node"]
                for e in api.data(world.integration, LIST)["webhookSubscriptions"]["edges"]
            ]
            # The list is the delivery worker's table: it may not show it yet.
            mine = next((n for n in nodes if n["id"] == sid), None)
            return mine is not None and mine["status"] == "DISABLED"

        assert eventually(disabled, 60)
        nodes = api.data(world.integration, LIST)["webhookSubscriptions"]["edges"]
        reason = next(e["node"] for e in nodes if e["node"]["id"] == sid)["statusReason"]
        assert "failed for" in reason and "HTTP 500" in reason
        sent = receiver.requests
        receiver.fail_rate = 0.0
        assert not eventually(lambda: receiver.requests > sent, 2)  # disabled: nothing sent
        change(api, world.integration, "resumeWebhookSubscription", sid)
        assert delivered_count(receiver, len(positions))
        assert [b["position"] for b in receiver.accepted] == sorted(positions)


def test_a_team_filter_delivers_that_teams_events_only(prepared_database_url: str) -> None:
    with webhook_service(prepared_database_url) as api, receiving() as team, receiving() as other:
        world = World(api)
        mine = subscribe(api, world.integration, team.url, team=world.team)
        theirs = subscribe(api, world.integration, other.url, team=f"nobody-{world.s}")
        team.secrets, other.secrets = [mine["secret"]], [theirs["secret"]]
        positions = write_events(api, world, agreements=2, revisions=1)
        assert delivered_count(team, len(positions))
        deliveries_of_other = deliveries(api, world.integration, theirs["subscription"]["id"])
        assert deliveries_of_other == [] and other.accepted == []


def test_an_event_type_filter_delivers_those_types_only(prepared_database_url: str) -> None:
    with webhook_service(prepared_database_url) as api, receiving() as receiver:
        world = World(api)
        created = subscribe(api, world.integration, receiver.url, ["ProposalRevised"])
        receiver.secrets = [created["secret"]]
        write_events(api, world, agreements=2, revisions=2)
        assert delivered_count(receiver, 4)
        assert {b["type"] for b in receiver.accepted} == {"ProposalRevised"}
        assert len(deliveries(api, world.integration, created["subscription"]["id"])) == 4


def test_the_body_carries_type_position_time_id_and_the_public_payload(
    prepared_database_url: str,
) -> None:
    with webhook_service(prepared_database_url) as api, receiving() as receiver:
        world = World(api)
        created = subscribe(api, world.integration, receiver.url)
        receiver.secrets = [created["secret"]]
        agreement = world.propose()
        api.data(
            world.integration,
            "mutation($i: UpsertPeopleInput!) { upsertPeople(input: $i) { position } }",
            i={
                "people": [
                    {
                        "id": world.ids["mate2"],
                        "displayName": "Mate Two",
                        "email": "m2@example.com",
                        "contractedHoursPerWeek": 32,
                        "teamId": world.team,
                        "managerId": world.ids["mgr"],
                    }
                ]
            },
        )
        assert delivered_count(receiver, 2)
        proposed, changed = receiver.accepted[:2]
        world.sync()  # deliveries follow the log, the feed below the read models
        feed = api.data(
            world.hr, "query { changes(first: 100) { edges { node { position type payload } } } }"
        )["changes"]["edges"]
        by_position = {e["node"]["position"]: e["node"] for e in feed}
        assert proposed["type"] == "Proposed" and proposed["agreementId"]
        assert proposed["agreementId"] in _uuid_of(agreement["id"])
        assert proposed["data"] == by_position[proposed["position"]]["payload"]
        assert proposed["recordedAt"].endswith("Z")
        assert changed["type"] == "ProfileChanged" and changed["personId"] == world.ids["mate2"]
        assert changed["data"] == by_position[changed["position"]]["payload"]
        ids = {b["_id"] for b in receiver.accepted}
        assert len(ids) == len(receiver.accepted)


def _uuid_of(global_id: str) -> str:
    import base64

    return base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()


def test_redelivering_a_range_sends_those_messages_again_with_the_same_ids(
    prepared_database_url: str,
) -> None:
    with webhook_service(prepared_database_url) as api, receiving() as receiver:
        world = World(api)
        created = subscribe(api, world.integration, receiver.url)
        receiver.secrets = [created["secret"]]
        sid = created["subscription"]["id"]
        positions = sorted(write_events(api, world, agreements=2, revisions=2))
        assert delivered_count(receiver, len(positions))
        low, high = positions[1], positions[3]
        result = api.data(
            world.integration,
            REDELIVER,
            input={"subscriptionId": sid, "fromPosition": low, "toPosition": high},
        )["redeliverWebhooks"]
        assert result == {"queued": 3, "userErrors": []}
        expected = [b["_id"] for b in receiver.accepted if low <= b["position"] <= high]
        assert eventually(lambda: len(receiver.duplicates) >= 3, 60)
        assert receiver.duplicates == expected
        refused = api.data(
            world.integration,
            REDELIVER,
            input={"subscriptionId": sid, "fromPosition": high, "toPosition": low},
        )["redeliverWebhooks"]
        assert refused["queued"] == 0 and refused["userErrors"][0]["field"] == "fromPosition"


def test_review_due_is_sent_once_per_due_date_even_across_restarts(
    prepared_database_url: str,
) -> None:
    with receiving() as receiver:
        with webhook_service(prepared_database_url) as api:
            world = World(api)
            created = subscribe(api, world.integration, receiver.url, ["review.due"])
            receiver.secrets = [created["secret"]]
            agreement = world.active()
            today = datetime.now(UTC).date()
            review = api.data(
                world.manager,
                REVIEW,
                input={
                    "agreementId": agreement["id"],
                    "outcome": "ON_TRACK",
                    "heldOn": (today - timedelta(days=1)).isoformat(),
                    "nextReviewOn": today.isoformat(),
                },
            )["recordReview"]
            assert review["userErrors"] == []
            assert delivered_count(receiver, 1)
            (due,) = receiver.accepted
            assert due["type"] == "review.due"
            assert due["agreementId"] in _uuid_of(agreement["id"])
            assert due["data"] == {
                "employeeId": world.ids["emp"],
                "nextReviewOn": today.isoformat(),
            }
            queue_reminders(api.container.engines.writer, api.container.engines.reader)
        with webhook_service(prepared_database_url) as again:  # a restart: the same database
            queue_reminders(again.container.engines.writer, again.container.engines.reader)
            assert not eventually(lambda: receiver.requests > 1, 3)
        assert receiver.duplicates == [] and len(receiver.accepted) == 1
