"""Resolving quarantined events (`crafting quarantine`): retry one through its
consumer, or acknowledge it (the operator has dealt with it otherwise, e.g. a rebuild
after a fix, or judged it harmless)."""

from __future__ import annotations

from infra.followers import quarantine
from infra.followers.errors import described, is_connection_error
from infra.followers.follower import Follower


class NotRetried(Exception):
    """The retry failed or is not possible; the event stays quarantined."""


def retry(follower: Follower, position: int, by: str) -> None:
    """Apply the quarantined event now through the follower's consumer, in one
    transaction with its resolution (NotRetried: it failed again, or is not open)."""
    consumer = follower.consumer
    if consumer is None:
        raise NotRetried(f"{follower.name} has no consumer")
    with follower.reader.connect() as conn:
        if not quarantine.is_open(conn, consumer.name, position):
            raise NotRetried(f"nothing quarantined for {consumer.name} at position {position}")
    batch = follower.recorder.select_notifications(position, 1)
    if not batch or batch[0].id != position:
        raise NotRetried(f"no event at position {position} any more: acknowledge it instead")
    try:
        items, untrusted = follower.decode(batch)
        if untrusted:
            raise NotRetried(f"the event at position {position} does not carry the service's tag")
        with follower.engine.begin() as conn:
            consumer.handle(conn, items)
            quarantine.close(conn, consumer.name, position, quarantine.RETRIED, by, "retried")
    except NotRetried:
        raise
    except Exception as error:
        if is_connection_error(error):
            raise
        raise NotRetried(f"it failed again: {described(error)}") from None


def acknowledge(follower: Follower, position: int, by: str, note: str) -> bool:
    """Mark the quarantined event resolved without applying it; False if none open."""
    name = follower.consumer.name if follower.consumer is not None else follower.name
    with follower.engine.begin() as conn:
        return quarantine.close(conn, name, position, quarantine.ACKNOWLEDGED, by, note)
