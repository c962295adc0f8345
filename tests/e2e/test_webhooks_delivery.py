"""Webhook delivery end to end: the service (worker inside serve) on each database,
real receivers verifying every delivery with the `standardwebhooks` library."""

from __future__ import annotations

from tests.e2e.webhooks_support import subscribe, webhook_service, write_events
from tests.e2e.world import World
from tests.processes import eventually
from tests.webhook_receiver import in_order_per_agreement, receiving


def test_every_event_arrives_signed_once_in_order_despite_a_receiver_failing_half_the_time(
    database_url: str,
) -> None:
    with webhook_service(database_url) as api, receiving(fail_rate=0.5) as receiver:
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
