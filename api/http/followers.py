"""What `/readyz` and `/metrics` say of the log's followers and of open alarms, read
from the database when asked: every process (each `serve` worker too) reports the
followers and alarms of every process, whichever leads or raised them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from infra.alarms import Alarm, open_alarm_counts, open_alarms
from infra.bootstrap import Container
from infra.deployment import reported
from infra.followers.status import FollowerStatus, read_status
from infra.webhooks.tables import PENDING, delivery_stats, outbox


@dataclass(frozen=True)
class Report:
    """The followers as of now, and the open alarms."""

    followers: list[FollowerStatus]
    judged: list[FollowerStatus]  # those readiness depends on
    alarms: list[Alarm]

    @property
    def ready(self) -> bool:
        """Every judged follower is alive and keeping up."""
        return all(status.ready for status in self.judged)

    def follower(self, name: str) -> FollowerStatus | None:
        """The named follower's status, if reported."""
        return next((f for f in self.followers if f.name == name), None)


def report(container: Container) -> Report:
    """Read every reported follower's status and the open alarms."""
    settings = container.settings
    head = container.app.recorder.max_notification_id() or 0
    now = time.time()
    with container.engines.reader.connect() as conn:
        pairs = [
            (
                role,
                read_status(
                    conn,
                    role.name,
                    head,
                    max_silent_seconds=settings.projections.ready_heartbeat_seconds,
                    max_behind_seconds=settings.projections.ready_max_lag_seconds,
                    now=now,
                ),
            )
            for role in reported(container)
        ]
        alarms = open_alarms(conn)
    judged = [s for role, s in pairs if role.required or s.leader is not None]
    return Report([s for _, s in pairs], judged, alarms)


def readiness_body(found: Report) -> dict[str, Any]:
    """/readyz's body: the status, the projector's figures (as before), every
    follower and the open alarms."""
    projector = found.follower("projector")
    body: dict[str, Any] = {
        "status": "ok" if found.ready else "unavailable",
        "database": "ok",
    }
    if projector is not None:
        body["projection_lag"] = projector.lag  # null until it has said where it is
        body["projection_lag_seconds"] = round(projector.behind_seconds, 1)
        body["projector_heartbeat_age_seconds"] = _rounded(projector.silent_seconds)
    reasons = [s.reason for s in found.judged if s.reason is not None]
    if reasons:
        body["reason"] = "; ".join(reasons)
    body["followers"] = [
        {
            "name": s.name,
            "ready": s.ready,
            "leader": s.leader,
            "position": s.position,
            "lag": s.lag,
            "heartbeat_age_seconds": _rounded(s.silent_seconds),
            "behind_seconds": round(s.behind_seconds, 1),
            "last_error": s.last_error,
        }
        for s in found.followers
    ]
    body["alarms"] = [
        {"kind": a.kind, "subject": a.subject, "detail": a.detail, "raised_at": a.raised_at}
        for a in found.alarms
    ]
    return body


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class FollowerCollector(Collector):
    """Prometheus series read from the database at scrape time: per follower, per
    alarm kind, per webhook subscription."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def collect(self) -> Iterator[Metric]:
        """The series (nothing when the database does not answer)."""
        found = report(self.container)
        up = GaugeMetricFamily(
            "crafting_follower_ready",
            "1 when the follower is alive and keeping up",
            labels=["follower"],
        )
        lag = GaugeMetricFamily(
            "crafting_follower_lag_events",
            "Events the follower has not processed",
            labels=["follower"],
        )
        position = GaugeMetricFamily(
            "crafting_follower_position", "The last log position processed", labels=["follower"]
        )
        age = GaugeMetricFamily(
            "crafting_follower_heartbeat_age_seconds",
            "Seconds since the follower's leader last beat",
            labels=["follower"],
        )
        for s in found.followers:
            up.add_metric([s.name], 1.0 if s.ready else 0.0)
            if s.lag is not None and s.position is not None:
                lag.add_metric([s.name], float(s.lag))
                position.add_metric([s.name], float(s.position))
            if s.silent_seconds is not None:
                age.add_metric([s.name], s.silent_seconds)
        yield from (up, lag, position, age)
        alarms = GaugeMetricFamily(
            "crafting_alarms_open", "Open alarms by kind (see /readyz)", labels=["kind"]
        )
        with self.container.engines.reader.connect() as conn:
            for kind, count in open_alarm_counts(conn).items():
                alarms.add_metric([kind], float(count))
            yield alarms
            yield from _webhook_series(conn)


def _webhook_series(conn: Any) -> Iterator[Metric]:
    attempts = CounterMetricFamily(
        "crafting_webhook_attempts", "Delivery attempts", labels=["subscription"]
    )
    failures = CounterMetricFamily(
        "crafting_webhook_failures", "Failed delivery attempts", labels=["subscription"]
    )
    for row in conn.execute(select(delivery_stats)):
        attempts.add_metric([row.subscription_id], float(row.attempts))
        failures.add_metric([row.subscription_id], float(row.failures))
    oldest = GaugeMetricFamily(
        "crafting_webhook_oldest_pending_seconds",
        "Age of the oldest message waiting to be delivered",
        labels=["subscription"],
    )
    now = time.time()
    first = (
        select(outbox.c.subscription_id, func.min(outbox.c.id).label("id"))
        .where(outbox.c.status == PENDING)
        .group_by(outbox.c.subscription_id)
        .subquery()
    )
    rows = conn.execute(
        select(outbox.c.subscription_id, outbox.c.created_at).join(first, outbox.c.id == first.c.id)
    )
    for row in rows:
        oldest.add_metric([row.subscription_id], max(0.0, now - row.created_at))
    yield from (attempts, failures, oldest)
