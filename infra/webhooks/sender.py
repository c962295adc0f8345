"""Sends one subscription's queue, oldest first: a message is attempted only when
every earlier one was delivered, so the receiver sees the log's order (and so each
agreement's). A failure schedules the next attempt with exponential backoff and
jitter; a subscription failing for longer than allowed is disabled, saying why."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Engine, select, update

from domain.webhooks.rules import REVIEW_DUE
from domain.webhooks.service import WebhookSubscriptions
from infra.webhooks import transport
from infra.webhooks.secrets import signing_keys
from infra.webhooks.signature import headers
from infra.webhooks.tables import DELIVERED, PENDING, outbox
from projections.webhook_payload import review_due_payload, webhook_payload

log = logging.getLogger(__name__)
SKIPPED = "SKIPPED"  # the subscriber's role may not read it: nothing sent


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
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.mapper = mapper
        self.service = service
        self.config = config

    def drain(self, sub: dict[str, Any], limit: int = 200) -> int:
        """Attempt the subscription's due messages in order until one fails, the
        next is not due yet, or `limit` were sent; the number delivered."""
        sid = sub["subscription_id"]
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.subscription_id == sid, outbox.c.status == PENDING)
                .order_by(outbox.c.id)
                .limit(limit)
            ).all()
        delivered = 0
        for row in rows:
            now = time.time()
            if row.next_attempt_at > now:
                break  # the head is waiting for its retry: nothing may overtake it
            body = self._body(sub, row)
            if body is None:
                self._finish(row.id, SKIPPED, now)
                continue
            keys = signing_keys(self.engine, sid, now)
            if not keys:
                break  # deleted meanwhile: its secrets are gone
            result = transport.post(
                sub["url"],
                body,
                headers(keys, row.message_id, int(now), body),
                timeout=self.config.timeout_seconds,
                allow_private=self.config.allow_private,
            )
            self._record(row, result, now)
            if not result.ok:
                first_failed = row.first_failed_at or now
                if now - first_failed >= self.config.disable_after_seconds:
                    self._disable(sid, now - first_failed, result)
                break
            delivered += 1
        return delivered

    def _body(self, sub: dict[str, Any], row: Any) -> bytes | None:
        found = self.recorder.select_notifications(row.position, 1)
        if not found or found[0].id != row.position:
            raise LookupError(f"no event at position {row.position}")
        event: Any = self.mapper.to_domain_event(found[0])
        if row.event_type == REVIEW_DUE:
            payload: dict[str, Any] | None = review_due_payload(
                row.agreement_id, row.person_id, row.due_on, row.position, event.timestamp
            )
        else:
            payload = webhook_payload(event, row.position, sub["role"], person_id=row.person_id)
        return None if payload is None else orjson.dumps(payload)

    def _record(self, row: Any, result: transport.AttemptResult, now: float) -> None:
        attempts = row.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status_code": result.status_code,
            "last_latency_ms": round(result.latency_ms, 1),
            "last_error": result.error,
        }
        if result.ok:
            values |= {"status": DELIVERED, "delivered_at": now, "first_failed_at": None}
        else:
            values |= {
                "first_failed_at": row.first_failed_at or now,
                "next_attempt_at": now + self.config.backoff(attempts),
            }
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row.id, outbox.c.status == PENDING)
                .values(**values)
            )

    def _finish(self, row_id: int, status: str, now: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox).where(outbox.c.id == row_id).values(status=status, delivered_at=now)
            )

    def _disable(self, sid: str, failing_for: float, result: transport.AttemptResult) -> None:
        last = f"HTTP {result.status_code}" if result.status_code else "no response"
        why = (
            f"Disabled after deliveries failed for {failing_for / 3600:.1f} hours "
            f"(last attempt: {last}). Resume it once the receiver works again; "
            "deliveries continue from the first one that failed."
        )
        if self.service.disable(UUID(sid), why):
            log.warning("webhook subscription %s disabled: %s", sid, last)
