"""Retention: people who left longer ago than `CRAFTING_RETENTION_DAYS_AFTER_LEAVING`
are erased, each erasure recorded like HR's own (`ErasePerson`, by `crafting-retention`).

Who is due comes from the read models (inactive since, not erased, not on hold); the
command judges each person again on the write model, so a hold placed meanwhile, or
another process erasing them first, refuses that one and the run goes on. Any number
of processes may run it at once (`crafting retention`, the follower's leader): an
erasure is recorded once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.access import Actor
from domain.application import Request
from domain.application import commands as c
from domain.errors import DomainError
from domain.values import Role
from infra.bootstrap import Container
from projections import queries as q

log = logging.getLogger(__name__)
RETENTION = Actor("crafting-retention", frozenset({Role.HR}))
RUN_EVERY_SECONDS = 3600.0


@dataclass
class RetentionRun:
    erased: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # person id -> why


def erase_past_retention(container: Container, now: datetime | None = None) -> RetentionRun:
    """Erase everyone past the retention window (nothing when it is not set)."""
    days = container.settings.retention.days_after_leaving
    run = RetentionRun()
    if days is None:
        return run
    left_before = (now or datetime.now(UTC)) - timedelta(days=days)
    with container.engines.reader.connect() as conn:
        due = q.due_for_erasure(conn, q.live_read_model(conn), left_before)
    for person_id in due:
        command = c.ErasePerson(
            person_id=person_id,
            reason=f"Retention: inactive for more than {days} days",
            idempotency_key=f"retention:{person_id}",
        )
        try:
            result = container.app.execute(Request(RETENTION, f"retention-{person_id}"), command)
        except DomainError as error:
            run.refused[person_id] = error.message
            continue
        if result.replayed:  # another run erased them first (the same idempotency key)
            continue
        run.erased.append(person_id)
        log.info("retention erased a person", extra={"person_id": person_id})
    return run


def destroy_keys_of_erased(container: Container) -> int:
    """With a key store apart from the events, an erasure is recorded first and its key
    destroyed right after; this destroys any that a failure left (idempotent). Returns
    how many erased people it checked."""
    with container.engines.reader.connect() as conn:
        erased = q.erased_people(conn, q.live_read_model(conn))
    for person_id in erased:
        container.keys.destroy(person_id)
    return len(erased)


class Retention:
    """Runs retention every `interval` seconds (the follower `retention` calls it; only
    its leader runs it), and with a key store of its own, the reconciliation of erased
    people's keys. Who is due comes from the read models, which hold only events the
    service wrote: an event written around the service never makes anyone due."""

    name = "retention"

    def __init__(self, container: Container, interval: float = RUN_EVERY_SECONDS) -> None:
        self.container, self.interval = container, interval
        self._next = 0.0  # at once after a start, then every interval

    def dispatch(self) -> float:
        """Run when the interval has passed; the seconds until the next run."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.interval
            if self.container.settings.keys.keystore_url is not None:
                destroy_keys_of_erased(self.container)
            erase_past_retention(self.container)
        return self._next - now
