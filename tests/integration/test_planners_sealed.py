"""The planners' followers (webhooks, notifications) decode events with personal texts
sealed: they read none, and opening every value of every event was a quarter to a
third of their CPU under load (bench/follower_load.py). Webhook subscriptions' events
are still decoded opened (the planner copies their reasons)."""

from __future__ import annotations

from typing import Any

from domain.agreement.events import Proposed
from domain.sealing import PREFIX, Opened
from domain.webhooks import WebhookSubscription
from infra.bootstrap import Container
from infra.followers.sealed import PlanningMapper
from tests.support import Org


def test_the_planners_decode_personal_texts_sealed(container: Container) -> None:
    container.prepare()
    notifications = container.notifications("s" * 48).follower
    Org(container.app).active()
    batch = container.app.recorder.select_notifications(1, 1000)
    opened = [
        e for n in batch if isinstance(e := container.app.mapper.to_domain_event(n), Proposed)
    ]
    assert opened and isinstance(opened[0].title, Opened)  # the commands' decoder opens
    for follower in (container.webhooks, notifications):
        items, untrusted = follower.decode(batch)
        assert not untrusted
        proposed = [e for _, e in items if isinstance(e, Proposed)]
        assert len(proposed) == 1, follower.name
        title = proposed[0].title
        assert not isinstance(title, Opened), follower.name
        assert title.startswith(PREFIX), follower.name
        assert title == opened[0].title.envelope


class _Decoder:
    def __init__(self, name: str) -> None:
        self.name = name

    def keeping_sealed(self) -> _Decoder:
        return _Decoder("sealed")

    def to_domain_event(self, stored: Any) -> str:
        return self.name


class _Stored:
    def __init__(self, topic: str) -> None:
        self.topic = topic


def test_a_webhook_subscriptions_events_are_decoded_opened() -> None:
    mapper = PlanningMapper(_Decoder("opening"), (WebhookSubscription.Event,))  # type: ignore[arg-type]
    subscription = "domain.webhooks:WebhookSubscription.Disabled"
    proposed = "domain.agreement.events:Proposed"
    assert mapper.to_domain_event(_Stored(subscription)) == "opening"  # type: ignore[arg-type,comparison-overlap]
    assert mapper.to_domain_event(_Stored(proposed)) == "sealed"  # type: ignore[arg-type,comparison-overlap]


def test_the_followers_of_a_process_share_their_decoded_events(container: Container) -> None:
    """The projector and the two planners decode each event once between them; a record
    read back different (same stream and version, other bytes) is decoded anew."""
    container.prepare()
    notifications = container.notifications("s" * 48).follower
    Org(container.app).active()
    batch = container.app.recorder.select_notifications(1, 1000)
    decoded = [dict(f.decode(batch)[0]) for f in (container.projector, container.webhooks)]
    again = dict(notifications.decode(container.app.recorder.select_notifications(1, 1000))[0])
    shared = [p for p, e in decoded[0].items() if decoded[1][p] is e and again[p] is e]
    assert shared == [n.id for n in batch]  # one object for the three (no subscriptions)
    first, other = [n for n in batch if n.topic == batch[0].topic][:2]
    changed = type(first)(
        first.originator_id, first.originator_version, first.topic, other.state, first.id
    )
    found = container.projector.mapper.to_domain_event(changed)
    assert found is not decoded[0][first.id]
    expected = vars(decoded[0][other.id]) | {
        "originator_id": first.originator_id,
        "originator_version": first.originator_version,
    }
    assert vars(found) == expected
