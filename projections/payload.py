"""An event's content as plain JSON for the audit log and the change feed."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

# Carried as columns of their own, so left out of the payload.
METADATA_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor_id",
        "actor_role",
        "reason",
        "correlation_id",
        "idempotency_key",
    }
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def plain(value: Any) -> Any:
    """JSON-ready: camelCase keys, ISO dates, enum values, lists for tuples."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {camel(f.name): plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {camel(str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def event_payload(event: Any) -> dict[str, Any]:
    """The event's own fields (not its metadata), as JSON."""
    return {camel(k): plain(v) for k, v in vars(event).items() if k not in METADATA_FIELDS}
