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
