"""Prometheus metrics (text format at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("crafting_http_requests_total", "HTTP requests", ["method", "path", "status"])
LATENCY = Histogram("crafting_http_request_seconds", "HTTP request latency", ["path"])
GRAPHQL_ERRORS = Counter("crafting_graphql_errors_total", "GraphQL errors by code", ["code"])
COMMANDS = Counter("crafting_commands_total", "Command outcomes by code", ["command", "code"])
PROJECTION_LAG = Gauge("crafting_projection_lag_events", "Events not yet projected")
COMPILED_READS = Counter(
    "crafting_graphql_compiled_reads_total",
    "Compilable queries served as one SQL statement, or handed to the resolvers",
    ["outcome"],
)
INSIGHTS = Counter(
    "crafting_insights_answers_total",
    "Insight answers: kept (current), behind (kept while refreshed), computed for the "
    "request; and background refreshes that failed (refresh_failed)",
    ["how"],
)
NOTIFICATION_BACKLOG = Gauge(
    "crafting_notifications_backlog", "E-mail notifications waiting to be sent (not digests)"
)
NOTIFICATION_BACKLOG_AGE = Gauge(
    "crafting_notifications_backlog_oldest_seconds", "Age of the oldest waiting notification"
)
