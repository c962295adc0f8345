"""The log's followers act only on what the service wrote, skip what they cannot send
without jamming, and say when they are stuck: the webhook follower inside serve, real
receivers verifying every delivery with the `standardwebhooks` library."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.graphql.ids import parse_global_id
from domain.access import Actor
from domain.application import Request
from domain.application.commands import ProposeAgreement
from domain.values import CareerGoal, Role
from infra.signing import new_private_key
from infra.webhooks.delivery import Deliveries
from tests.e2e.conftest import Api
from tests.e2e.webhooks_support import deliveries, subscribe, webhook_service, write_events
from tests.e2e.world import World
from tests.processes import eventually
from tests.tampering import Raw, forged_tail
from tests.webhook_receiver import Receiver, receiving


def _metrics(api: Api, token: str) -> str:
    response = api.client.get("/metrics", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.text


def _alarms(api: Api) -> set[tuple[str, str]]:
    body: dict[str, Any] = api.client.get("/readyz").json()
    return {(a["kind"], a["subject"]) for a in body.get("alarms", [])}


def _propose(api: Api, world: World, title: str) -> int:
    who = Actor(world.ids["emp"], frozenset({Role.EMPLOYEE}))
    goal = CareerGoal(target_role="Designer", skills=("research",))
    result = api.container.app.execute(
        Request(who, f"propose-{title}"), ProposeAgreement(title=title, career_goal=goal)
    )
    return result.position


def test_an_event_forged_in_the_database_is_never_signed_nor_delivered(database_url: str) -> None:
    with (
        webhook_service(database_url, signing_key=new_private_key()) as api,
        receiving() as receiver,
    ):
        world = World(api)
        created = subscribe(api, world.integration, receiver.url)
        receiver.secrets = [created["secret"]]
        positions = write_events(api, world, agreements=2, revisions=1)
        assert eventually(lambda: len(receiver.accepted) >= len(positions), 60)
        app = api.container.app
        (first,) = app.recorder.select_notifications(positions[0], 1)
        stream = first.originator_id

        raw = Raw(api.container)
        forged_tail(raw, stream)  # untagged: the service did not write it
        forged = raw.head()
        after = _propose(api, world, "after the forgery")
        assert after > forged
        assert eventually(lambda: after in {b["position"] for b in receiver.accepted}, 60)

        delivered = {b["position"] for b in receiver.accepted}
        assert forged not in delivered
        assert not [i for i in receiver.ids() if i.startswith(f"evt_{stream.hex}_")][2:]
        assert receiver.rejected == []
        # Alarmed where operators look, in every process: /readyz and /metrics.
        assert ("event.untagged", f"position {forged}") in _alarms(api)
        assert api.client.get("/readyz").status_code == 200
        assert 'crafting_alarms_open{kind="event.untagged"} 1.0' in _metrics(api, world.integration)
        # Nor shown: the read models skipped it too.
        assert eventually(lambda: api.container.projector.position() == after, 30)


def test_a_planned_event_gone_from_the_store_is_skipped_with_an_alarm(database_url: str) -> None:
    with webhook_service(database_url) as api:
        world = World(api)
        receiver = Receiver()  # down: every message stays queued
        created = subscribe(api, world.integration, receiver.url)
        receiver.secrets = [created["secret"]]
        sid = created["subscription"]["id"]
        uuid = parse_global_id(sid)[1]  # operators' series name the subscription's UUID
        positions = write_events(api, world, agreements=2, revisions=2)
        assert eventually(
            lambda: len(deliveries(api, world.integration, sid)) >= len(positions), 30
        )
        failing = f'crafting_webhook_failures_total{{subscription="{uuid}"}}'
        assert eventually(lambda: failing in _metrics(api, world.integration), 10)
        pending = _metrics(api, world.integration)
        assert f'crafting_webhook_oldest_pending_seconds{{subscription="{uuid}"}}' in pending
        assert f'crafting_webhook_attempts_total{{subscription="{uuid}"}}' in pending

        gone = positions[0]  # the head of the queue
        Raw(api.container).delete(gone)
        receiver.start()
        try:
            expected = set(positions) - {gone}
            assert eventually(lambda: expected <= {b["position"] for b in receiver.accepted}, 60), (
                "the queue jammed behind the missing event"
            )
        finally:
            receiver.stop()
        log = {d["position"]: d for d in deliveries(api, world.integration, sid)}
        assert log[gone]["status"] == "SKIPPED"
        assert log[gone]["lastError"] == "the event is missing from the store"
        assert ("webhook.event_missing", f"position {gone}") in _alarms(api)


def test_a_stuck_webhook_follower_turns_readyz_red(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[int] = []

    def broken(self: Deliveries) -> float | None:
        calls.append(1)
        raise RuntimeError("a bug in delivery")

    monkeypatch.setattr(Deliveries, "dispatch", broken)
    with webhook_service(database_url, ready_heartbeat_seconds=1.5) as api:

        def follower() -> dict[str, Any]:
            body = api.client.get("/readyz").json()
            return next(f for f in body["followers"] if f["name"] == "webhooks")

        assert eventually(lambda: (follower()["heartbeat_age_seconds"] or 0) > 1.5, 15)
        response = api.client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        webhooks = next(f for f in body["followers"] if f["name"] == "webhooks")
        assert webhooks["ready"] is False
        assert webhooks["last_error"].startswith("RuntimeError at test_follower_safety.py:")
        assert "webhooks follower has been silent" in body["reason"]
        assert 'crafting_follower_ready{follower="webhooks"} 0.0' in _metrics(
            api, World(api).integration
        )

        def projector_ready_beside_it() -> bool:
            # The projector beats once a second and waits up to a second for news, so
            # under load one reading can find it silent for longer than this test's 1.5 s;
            # the webhooks follower, failing every round, never turns green meanwhile.
            body = api.client.get("/readyz").json()
            ready = {f["name"]: f["ready"] for f in body["followers"]}
            assert ready["webhooks"] is False
            return bool(ready["projector"])

        assert eventually(projector_ready_beside_it, 10)
        logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
        bugs = [e for e in logged if e["logger"] == "infra.followers.follower"]
        assert bugs and all(e["level"] == "ERROR" for e in bugs)
        # Logged with its traceback: the frames, down to the bug (never its message).
        assert any("in broken" in e["traceback"][-1] for e in bugs)
        assert all("a bug in delivery" not in json.dumps(e) for e in bugs)
        # It retries (under load the second round can come after the checks above)...
        assert eventually(lambda: len(calls) >= 2, 10)
        # ...with a bounded backoff: 0.2 s doubling to 10 s, a handful of rounds, not a spin.
        assert len(calls) <= 8
