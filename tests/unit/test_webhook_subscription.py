"""The webhook subscription aggregate and what a subscription may ask for: given
events, when a command, then events (or a clear refusal and none)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.access import Actor, can_manage_subscription, webhook_role
from domain.errors import Forbidden, InvalidInput, InvalidTransition
from domain.metadata import Meta
from domain.values import Role
from domain.webhooks import SubscriptionStatus, WebhookSubscription, rules

META = Meta("workday-sync", "INTEGRATION", "c-1")


def _new() -> WebhookSubscription:
    return WebhookSubscription.create(uuid4(), "https://h.example.com/x", ["*"], None, META)


def _types(sub: WebhookSubscription) -> list[str]:
    return [type(e).__name__ for e in sub.collect_events()]


def test_creating_records_who_what_and_where_but_no_secret() -> None:
    sub = _new()
    (created,) = sub.collect_events()
    assert isinstance(created, WebhookSubscription.Created)
    assert (created.owner_id, created.role, created.secret_generation) == (
        "workday-sync",
        "INTEGRATION",
        1,
    )
    assert not any("secret" in name and name != "secret_generation" for name in vars(created))
    assert sub.status is SubscriptionStatus.ACTIVE


def test_pause_resume_disable_delete_follow_the_lifecycle() -> None:
    sub = _new()
    sub.collect_events()
    sub.pause(META)
    with pytest.raises(InvalidTransition):
        sub.pause(META)
    sub.resume(META)
    with pytest.raises(InvalidTransition):
        sub.resume(META)
    sub.disable(META)
    with pytest.raises(InvalidTransition):
        sub.disable(META)
    sub.resume(META)  # a disabled subscription resumes too
    sub.delete(META)
    assert _types(sub) == ["Paused", "Resumed", "Disabled", "Resumed", "Deleted"]
    for step in (sub.pause, sub.resume, sub.delete):
        with pytest.raises(InvalidTransition):
            step(META)
    with pytest.raises(InvalidTransition):
        sub.rotate_secret(datetime.now(UTC), META)
    assert sub.collect_events() == []


def test_rotating_moves_to_the_next_generation() -> None:
    sub = _new()
    until = datetime(2030, 1, 1, tzinfo=UTC)
    assert sub.rotate_secret(until, META) == 2
    assert sub.rotate_secret(until, META) == 3
    rotated = sub.collect_events()[-1]
    assert isinstance(rotated, WebhookSubscription.SecretRotated)
    assert (rotated.secret_generation, rotated.previous_valid_until) == (3, until)


@pytest.mark.parametrize(
    ("given", "wanted"),
    [
        (["*"], ["*"]),
        (["Proposed", "Approved", "Proposed"], ["Approved", "Proposed"]),
        (["review.due", "ProfileChanged"], ["ProfileChanged", "review.due"]),
    ],
)
def test_event_types_are_deduplicated_and_sorted(given: list[str], wanted: list[str]) -> None:
    assert rules.event_types(given) == wanted


@pytest.mark.parametrize("given", [[], ["*", "Proposed"], ["Opened"], ["Recorded"], ["x"] * 51])
def test_unknown_empty_or_mixed_event_types_are_refused(given: list[str]) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.event_types(given)
    assert refused.value.field == "eventTypes"


def test_ledger_and_bookkeeping_events_are_not_deliverable() -> None:
    known = rules.deliverable_types()
    assert {"Proposed", "ReviewRecorded", "Registered", "ProfileChanged", "review.due"} <= known
    assert not known & {"Opened", "Booked", "Released", "Recorded", "Created"}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://h.example.com/x",
        "https://user:pw@h.example.com/x",
        "https://h.example.com/x#frag",
        "https:///nohost",
        "https://h.example.com:0/x",
        "https://h.example.com:99999/x",
        "h.example.com/x",
    ],
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        rules.subscription_url(url, allow_http=True)


def test_http_only_in_development() -> None:
    assert rules.subscription_url(" http://h.example.com/x ", allow_http=True) == (
        "http://h.example.com/x"
    )
    with pytest.raises(InvalidInput, match="https"):
        rules.subscription_url("http://h.example.com/x", allow_http=False)


def test_only_hr_and_integrations_manage_and_integrations_their_own() -> None:
    hr = Actor("hr-1", frozenset({Role.HR}))
    sync = Actor("workday-sync", frozenset({Role.INTEGRATION}))
    other = Actor("personio", frozenset({Role.INTEGRATION}))
    assert webhook_role(sync) is Role.INTEGRATION and webhook_role(hr) is Role.HR
    for role in (Role.EMPLOYEE, Role.MANAGER, Role.AUDITOR):
        with pytest.raises(Forbidden):
            webhook_role(Actor("x", frozenset({role})))
    assert can_manage_subscription(hr, "workday-sync")
    assert can_manage_subscription(sync, "workday-sync")
    assert not can_manage_subscription(other, "workday-sync")
