"""Sends one subscription's queue, oldest first: a message is attempted only when
every earlier one was delivered, so the receiver sees the log's order (and so each
agreement's). A failure schedules the next attempt with exponential backoff and
jitter, and is logged (subscription, message id, attempt, status: never the URL, the
body or the receiver's answer); a subscription failing for longer than allowed is
disabled, saying why.

A message whose event is gone from the store, or no longer carries the service's tag
(edited around the service after it was queued), is skipped with an alarm: never sent,
and never left at the head of the queue to jam everything behind it."""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from itertools import takewhile
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.application.subscriptions import WebhookSubscriptions
from domain.webhooks.rules import REVIEW_DUE
from infra.alarms import raise_alarm
from infra.followers.trust import EventTrust
from infra.webhooks import transport
from infra.webhooks.signature import headers
from infra.webhooks.tables import DELIVERED, PENDING, delivery_stats, outbox
from projections.webhook_payload import review_due_payload, webhook_payload

log = logging.getLogger(__name__)
SKIPPED = "SKIPPED"
MISSING = "webhook.event_missing"
UNTAGGED_AT_SEND = "webhook.event_untagged"
WRITE_EVERY = 20  # messages
WRITE_SECONDS = 0.25  # the subscriber's role may not read it: nothing sent


@dataclass(frozen=True)
class DeliveryConfig:
    timeout_seconds: float = 10
    retry_min_seconds: float = 5
    retry_max_seconds: float = 3600
    disable_after_seconds: float = 5 * 86_400
    allow_private: bool = False
    concurrency: int = 8
    poll_seconds: float = 1.0
    reminder_seconds: float = 60

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after `attempts` failures: doubling from
        the minimum up to the maximum, with jitter (half to all of it) so that many
        subscriptions failing together do not retry in step."""
        ceiling = min(self.retry_max_seconds, self.retry_min_seconds * 2 ** (attempts - 1))
        return float(ceiling * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto


class Sender:
    def __init__(
        self,
        engine: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        service: WebhookSubscriptions,
        config: DeliveryConfig,
        trust: EventTrust,
        *,
        reader: Engine | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.engine = engine
        self.reader = reader or engine
        self.stopping = stopping or threading.Event()
        self.recorder = recorder
        self.mapper = mapper
        self.service = service
        self.config = config
        self.trust = trust

    def drain(self, sub: dict[str, Any], limit: int = 200) -> int:
        """Attempt the subscription's due messages in order until one fails, the
        next is not due yet, or `limit` were sent; the number delivered. Outcomes are
        written every WRITE_EVERY messages or WRITE_SECONDS (and at the end): a crash
        in between sends those again, which at-least-once allows and `webhook-id`
        dedups; one commit per message would cap throughput at the disk's fsync rate."""
        sid = sub["subscription_id"]
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.subscription_id == sid, outbox.c.status == PENDING)
                .order_by(outbox.c.id)
                .limit(limit)
            ).all()
        now = time.time()
        rows = list(takewhile(lambda r: r.next_attempt_at <= now, rows))
        keys = self.service.secrets.signing_keys(sid, now)
        if not rows or not keys:  # nothing due, or deleted meanwhile (secrets gone)
            return 0
        events, unusable = self._events([r.position for r in rows])
        outcomes: list[tuple[Any, transport.AttemptResult | str | None, float]] = []
        delivered = written = 0
        flushed = time.time()
        connection = transport.ReceiverConnection(
            sub["url"],
            timeout=self.config.timeout_seconds,
            allow_private=self.config.allow_private,
        )
        try:
            for row in rows:
                if self.stopping.is_set():
                    break  # shutting down: the rest waits for the next worker
                now = time.time()
                if row.position in unusable:
                    outcomes.append((row, unusable[row.position], now))
                    continue
                body = self._body(sub, row, events[row.position])
                if body is None:
                    outcomes.append((row, None, now))
                    continue
                result = connection.post(body, headers(keys, row.message_id, int(now), body))
                outcomes.append((row, result, now))
                if not result.ok:
                    self._log_failure(sid, row, result)
                    break  # the head waits for its retry: nothing may overtake it
                delivered += 1
                if len(outcomes) - written >= WRITE_EVERY or now - flushed >= WRITE_SECONDS:
                    self._write(outcomes[written:])
                    written, flushed = len(outcomes), now
        finally:
            connection.close()
            self._write(outcomes[written:])
        if not outcomes:
            return 0
        last, outcome, at = outcomes[-1]
        if isinstance(outcome, transport.AttemptResult) and not outcome.ok:
            first_failed = last.first_failed_at or at
            if at - first_failed >= self.config.disable_after_seconds:
                self._disable(sid, at - first_failed, outcome)
        return delivered

    def _events(self, positions: list[int]) -> tuple[dict[int, Any], dict[int, str]]:
        """The events at `positions`, read in one range when they are close together;
        and why the others cannot be sent (gone from the store, or without the
        service's tag), each alarmed."""
        low, high = min(positions), max(positions)
        wanted = set(positions)
        if high - low < 4 * len(positions) + 100:
            found = self.recorder.select_notifications(low, high - low + 1, stop=high)
        else:
            found = [n for p in sorted(wanted) for n in self.recorder.select_notifications(p, 1)]
        found = [n for n in found if n.id in wanted]
        untagged = {n.id for n in self.trust.untrusted(found)}
        events = {n.id: self.mapper.to_domain_event(n) for n in found if n.id not in untagged}
        unusable = {p: "the event does not carry the service's tag" for p in untagged}
        unusable |= {
            p: "the event is missing from the store" for p in wanted - {n.id for n in found}
        }
        if unusable:
            with self.engine.begin() as conn:
                for position, why in sorted(unusable.items()):
                    self._alarm(conn, position, why)
        return events, unusable

    def _alarm(self, conn: Connection, position: int, why: str) -> None:
        kind = UNTAGGED_AT_SEND if "tag" in why else MISSING
        detail = (
            f"Webhook messages for the event at position {position} were skipped, not "
            f"sent: {why}. Run `crafting verify`."
        )
        if raise_alarm(conn, kind, f"position {position}", detail):
            log.error("webhook messages for position %s skipped: %s", position, why)

    def _log_failure(self, sid: str, row: Any, result: transport.AttemptResult) -> None:
        what = f"HTTP {result.status_code}" if result.status_code else "no response"
        log.warning(
            "webhook delivery failed: subscription %s, message %s, attempt %s: %s",
            sid,
            row.message_id,
            row.attempts + 1,
            what,
        )

    def _body(self, sub: dict[str, Any], row: Any, event: Any) -> bytes | None:
        if row.event_type == REVIEW_DUE:
            payload: dict[str, Any] | None = review_due_payload(
                row.agreement_id, row.person_id, row.due_on, row.position, event.timestamp
            )
        else:
            payload = webhook_payload(event, row.position, sub["role"], person_id=row.person_id)
        return None if payload is None else orjson.dumps(payload)

    def _write(
        self, outcomes: list[tuple[Any, transport.AttemptResult | str | None, float]]
    ) -> None:
        if not outcomes:
            return
        # One executemany per shape of outcome (delivered, failed, skipped).
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row, result, now in outcomes:
            values = self._outcome(row, result, now)
            shapes.setdefault(tuple(sorted(values)), []).append({"row_id": row.id, **values})
        with self.engine.begin() as conn:
            for columns, rows in shapes.items():
                statement = (
                    update(outbox)
                    .where(outbox.c.id == bindparam("row_id"), outbox.c.status == PENDING)
                    .values({name: bindparam(name) for name in columns})
                )
                conn.execute(statement, rows)
            _count(conn, outcomes)

    def _outcome(
        self, row: Any, result: transport.AttemptResult | str | None, now: float
    ) -> dict[str, Any]:
        if result is None:  # nothing the subscriber's role may read: nothing sent
            return {"status": SKIPPED, "delivered_at": now}
        if isinstance(result, str):  # the event cannot be sent (alarmed)
            return {"status": SKIPPED, "delivered_at": now, "last_error": result[:300]}
        values: dict[str, Any] = {
            "attempts": row.attempts + 1,
            "last_attempt_at": now,
            "last_status_code": result.status_code,
            "last_latency_ms": round(result.latency_ms, 1),
            "last_error": result.error,
        }
        if result.ok:
            return values | {"status": DELIVERED, "delivered_at": now, "first_failed_at": None}
        return values | {
            "first_failed_at": row.first_failed_at or now,
            "next_attempt_at": now + self.config.backoff(row.attempts + 1),
        }

    def _disable(self, sid: str, failing_for: float, result: transport.AttemptResult) -> None:
        last = f"HTTP {result.status_code}" if result.status_code else "no response"
        why = (
            f"Disabled after deliveries failed for {failing_for / 3600:.1f} hours "
            f"(last attempt: {last}). Resume it once the receiver works again; "
            "deliveries continue from the first one that failed."
        )
        if self.service.disable(UUID(sid), why):
            log.warning("webhook subscription %s disabled: %s", sid, last)


def _count(
    conn: Connection, outcomes: list[tuple[Any, transport.AttemptResult | str | None, float]]
) -> None:
    """Add the attempts and failures of `outcomes` to their subscriptions' counts."""
    counts: dict[str, list[int]] = {}
    for row, result, _ in outcomes:
        if isinstance(result, transport.AttemptResult):
            count = counts.setdefault(row.subscription_id, [0, 0])
            count[0] += 1
            count[1] += 0 if result.ok else 1
    if not counts:
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(delivery_stats)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["subscription_id"],
            set_={
                "attempts": delivery_stats.c.attempts + statement.excluded.attempts,
                "failures": delivery_stats.c.failures + statement.excluded.failures,
            },
        ),
        [
            {"subscription_id": sid, "attempts": attempts, "failures": failures}
            for sid, (attempts, failures) in counts.items()
        ],
    )
