"""Helpers of the webhook tests: the service with test-sized delivery settings, the
GraphQL calls, and a stream of events on a few agreements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from domain.access import Actor
from domain.application import Request
from domain.application.commands import ProposeAgreement, ReviseProposal
from domain.values import CareerGoal, Role
from tests.e2e.conftest import Api, serving
from tests.e2e.world import World
from tests.processes import eventually

FAST = {
    "dev": True,
    "webhooks_allow_private": True,
    "webhooks_retry_min_seconds": 0.05,
    "webhooks_retry_max_seconds": 0.4,
    "webhooks_timeout_seconds": 1.0,
    "webhooks_reminder_seconds": 0.5,
}
CREATE = """mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    subscription { id url eventTypes teamId status statusReason } secret position
    userErrors { field message code } } }"""
CHANGE = """mutation($input: WebhookSubscriptionInput!) {{
  {name}(input: $input) {{ subscription {{ id status statusReason }} secret position
    userErrors {{ field message code }} }} }}"""
LIST = """query($after: String) { webhookSubscriptions(first: 100, after: $after) {
  edges { cursor node { id url eventTypes teamId status statusReason ownerId } }
  pageInfo { hasNextPage endCursor } } }"""
DELIVERIES = """query($id: ID!, $first: Int!, $after: String) {
  webhookDeliveries(subscriptionId: $id, first: $first, after: $after) {
    edges { cursor node { webhookId type position agreementId personId dueOn status attempts
      lastStatusCode lastLatencyMs lastError nextAttemptAt deliveredAt createdAt } }
    pageInfo { hasNextPage endCursor } } }"""
REDELIVER = """mutation($input: RedeliverWebhooksInput!) { redeliverWebhooks(input: $input) {
  queued userErrors { field message code } } }"""


@contextmanager
def webhook_service(database_url: str, **overrides: Any) -> Iterator[Api]:
    with serving(database_url, **(FAST | overrides)) as api:
        yield api


def subscribe(
    api: Api, token: str, url: str, types: list[str] | None = None, team: str | None = None
) -> dict[str, Any]:
    payload = api.data(
        token, CREATE, input={"url": url, "eventTypes": types or ["*"], "teamId": team}
    )["createWebhookSubscription"]
    assert payload["userErrors"] == [], payload
    result: dict[str, Any] = payload
    return result


def change(api: Api, token: str, name: str, subscription_id: str, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = api.data(
        token, CHANGE.format(name=name), input={"subscriptionId": subscription_id, **extra}
    )[name]
    return payload


def deliveries(api: Api, token: str, subscription_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = api.data(token, DELIVERIES, id=subscription_id, first=100, after=after)
        found += [e["node"] for e in page["webhookDeliveries"]["edges"]]
        if not page["webhookDeliveries"]["pageInfo"]["hasNextPage"]:
            return found
        after = page["webhookDeliveries"]["pageInfo"]["endCursor"]


def write_events(api: Api, world: World, agreements: int, revisions: int) -> list[int]:
    """`agreements` proposals by two employees, each revised `revisions` times, the
    writes of different agreements interleaved; the positions written."""
    app = api.container.app
    positions = []
    ids = []
    for n in range(agreements):
        who = world.ids["emp"] if n % 2 == 0 else world.ids["mate"]
        request = Request(Actor(who, frozenset({Role.EMPLOYEE})), f"test-{n}")
        result = app.execute(request, ProposeAgreement(title=f"Plan {n}", career_goal=_goal(0)))
        assert result.agreement is not None
        ids.append((request, result.agreement.id))
        positions.append(result.position)
    for r in range(1, revisions + 1):
        for request, aid in ids:
            command = ReviseProposal(agreement_id=aid, title=f"Plan r{r}", career_goal=_goal(r))
            positions.append(app.execute(request, command).position)
    return positions


def _goal(n: int) -> CareerGoal:
    return CareerGoal(target_role=f"Product manager {n}", skills=("roadmapping",))


def delivered_all(receiver: Any, expected: set[str], timeout: float = 90) -> bool:
    return eventually(lambda: expected <= set(receiver.ids()), timeout)
