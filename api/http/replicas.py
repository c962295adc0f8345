"""What `/readyz` and `/metrics` say of the streaming replicas reads go to
(CRAFTING_READ_DATABASE_URL; infra.read_routing): as the router last checked them,
without asking any database at request time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from infra.read_routing import ReadRouter


def replicas_body(router: ReadRouter) -> list[dict[str, Any]]:
    """/readyz's `read_replicas`: each replica, whether reads go to it, and why not.
    A replica out of rotation never makes the service unready: the primary reads."""
    return [
        {
            "name": s.name,
            "in_rotation": s.in_rotation,
            "lag_seconds": None if s.lag_seconds is None else round(s.lag_seconds, 1),
            "position": s.position,
            "reason": s.reason,
        }
        for s in router.status()
    ]


class ReplicaCollector(Collector):
    """Prometheus series of the replicas and of where reads went."""

    def __init__(self, router: ReadRouter) -> None:
        self.router = router

    def collect(self) -> Iterator[Metric]:
        """The series, from the router's last check."""
        rotation = GaugeMetricFamily(
            "crafting_read_replica_in_rotation",
            "1 when reads go to the replica; 0 when it is down, promoted or lags too much",
            labels=["replica"],
        )
        lag = GaugeMetricFamily(
            "crafting_read_replica_lag_seconds",
            "How long the WAL the replica has not replayed has waited (a lower bound)",
            labels=["replica"],
        )
        position = GaugeMetricFamily(
            "crafting_read_replica_position",
            "The read models' log position on the replica",
            labels=["replica"],
        )
        reads = CounterMetricFamily(
            "crafting_read_replica_reads", "Reads the replica answered", labels=["replica"]
        )
        fallbacks = CounterMetricFamily(
            "crafting_read_replica_fallbacks",
            "Reads sent to the replica that the primary answered (replica failed, or behind "
            "a position the request waited for)",
            labels=["replica"],
        )
        for s in self.router.status():
            rotation.add_metric([s.name], 1.0 if s.in_rotation else 0.0)
            if s.lag_seconds is not None:
                lag.add_metric([s.name], s.lag_seconds)
            if s.position is not None:
                position.add_metric([s.name], float(s.position))
            reads.add_metric([s.name], float(s.reads))
            fallbacks.add_metric([s.name], float(s.fallbacks))
        primary = CounterMetricFamily(
            "crafting_read_primary_reads",
            "Reads of the read models the primary answered while replicas are configured",
        )
        primary.add_metric([], float(self.router.primary_reads))
        yield from (rotation, lag, position, reads, fallbacks, primary)
