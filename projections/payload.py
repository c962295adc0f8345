"""An event's content as plain JSON for the audit log and the change feed."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

from domain.integrity import JSON_ATOMS, plain
from domain.webhooks.subscription import WebhookSubscription

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
        "previous_hash",
    }
)


@cache
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camel_json(value: Any) -> Any:
    """JSON-ready with camelCase keys, as GraphQL clients read everything else. Sealed
    texts stay opened values: rows are written with `domain.sealing.stored`, payloads
    shown as they are."""
    return _camel_keys(plain(value, sealed=False))


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(k): _camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel_keys(v) for v in value]
    return value


def event_payload(event: Any) -> dict[str, Any]:
    """The event's own fields (not its metadata), as JSON; a webhook subscription's URL
    only as its receiver (see `receiver`)."""
    # Most fields are atoms, their own JSON form: answered without the walk (every
    # event of a rebuild gets an audit row).
    payload = {
        camel(k): v if type(v) in JSON_ATOMS else camel_json(v)
        for k, v in vars(event).items()
        if k not in METADATA_FIELDS
    }
    if isinstance(event, WebhookSubscription.Created):
        del payload["url"]
        payload["receiver"] = receiver(event.url)
    return payload


def receiver(url: str) -> str:
    """Where a subscription delivers, as the audit log and the change feed show it to
    everyone who reads them: scheme, host and port. Its path and query often hold the
    receiver's own token (`/hooks/workday?token=…`, `/services/T0/B0/XXXX`); the full
    URL is read only by those who manage the subscription (`webhookSubscriptions`)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "[redacted]"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
