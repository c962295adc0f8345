"""Reads of subscriptions and deliveries for the API (api.ports), and the redelivery
the delivery worker runs."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, func, select, update

from domain.webhooks import SubscriptionStatus
from infra.webhooks.tables import PENDING, outbox, secrets, subscriptions

Row = dict[str, Any]


def subscription_rows(engine: Engine, owner_id: str | None, first: int, after: int) -> list[Row]:
    """Subscriptions not deleted, oldest first, from the keyset `after` (their creation
    position); an integration's own only when `owner_id` is given. One row more than
    `first` says there is a next page."""
    query = (
        select(subscriptions)
        .where(
            subscriptions.c.status != SubscriptionStatus.DELETED,
            subscriptions.c.created_position > after,
        )
        .order_by(subscriptions.c.created_position)
        .limit(first + 1)
    )
    if owner_id is not None:
        query = query.where(subscriptions.c.owner_id == owner_id)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def held_by(engine: Engine, owner_id: str) -> int:
    """The owner's live subscriptions, for the cap on them: those with a secret (issued
    when one is created, before its event is saved; destroyed when it is deleted) that
    the planner lists as the owner's, plus every one it does not list yet (whoever's
    they are: a burst of creations is counted before the planner has caught up)."""
    live = select(secrets.c.subscription_id).distinct()
    planned = select(subscriptions.c.subscription_id)
    owned = planned.where(subscriptions.c.owner_id == owner_id)
    query = select(
        select(func.count())
        .select_from(live.where(secrets.c.subscription_id.in_(owned)).subquery())
        .scalar_subquery(),
        select(func.count())
        .select_from(live.where(secrets.c.subscription_id.not_in(planned)).subquery())
        .scalar_subquery(),
    )
    with engine.connect() as conn:
        mine, unplanned = conn.execute(query).one()
    return int(mine) + int(unplanned)


def delivery_rows(
    engine: Engine, subscription_id: str, first: int, before: int | None
) -> list[Row]:
    """The subscription's delivery log, newest first, before the keyset `before`."""
    query = (
        select(outbox)
        .where(outbox.c.subscription_id == subscription_id)
        .order_by(outbox.c.id.desc())
        .limit(first + 1)
    )
    if before is not None:
        query = query.where(outbox.c.id < before)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def _in_range(subscription_id: str, from_position: int, to_position: int) -> list[Any]:
    return [
        outbox.c.subscription_id == subscription_id,
        outbox.c.position >= from_position,
        outbox.c.position <= to_position,
    ]


def planned(engine: Engine, subscription_id: UUID, from_position: int, to_position: int) -> int:
    """How many messages are queued (sent or not) for the subscription between the two
    log positions, both included: what a redelivery of that range sends again."""
    query = (
        select(func.count())
        .select_from(outbox)
        .where(*_in_range(str(subscription_id), from_position, to_position))
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def requeue(conn: Connection, subscription_id: str, from_position: int, to_position: int) -> int:
    """Queue again every message of the subscription between the two log positions
    (both included), with their own `webhook-id`s; the number queued. They are sent in
    their original order, before anything queued after them. The delivery worker runs
    it, in its transaction, when it reaches a RedeliveryRequested event."""
    result = conn.execute(
        update(outbox)
        .where(*_in_range(subscription_id, from_position, to_position))
        .values(
            status=PENDING,
            attempts=0,
            next_attempt_at=time.time(),
            first_failed_at=None,
            delivered_at=None,
        )
    )
    return int(result.rowcount)
