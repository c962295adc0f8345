"""Reads of subscriptions and deliveries, and redelivery, for the API (api.ports)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, func, select, update

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


def redeliver(engine: Engine, subscription_id: str, from_position: int, to_position: int) -> int:
    """Queue again every message of the subscription between the two log positions
    (inclusive), with their own `webhook-id`s; the number queued. They are sent in
    their original order, before anything queued after them."""
    now = time.time()
    with engine.begin() as conn:
        result = conn.execute(
            update(outbox)
            .where(
                outbox.c.subscription_id == subscription_id,
                outbox.c.position >= from_position,
                outbox.c.position <= to_position,
            )
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                first_failed_at=None,
                delivered_at=None,
            )
        )
    return int(result.rowcount)
