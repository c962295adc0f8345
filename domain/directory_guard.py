"""The mass-deactivation guard: a misconfigured identity provider must not wipe the
directory. Deactivations sent by a guarded front door (SCIM) are counted here; once a
wave within the window would pass the allowed share of the directory, the rest is held
until HR confirms (applied) or dismisses it (the people stay active).

One stream for the whole directory: every guarded deactivation is saved in the same
atomic write as the person it deactivates, so concurrent deactivations conflict on
this stream's version and are judged again in order (never both under the limit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from domain.metadata import ChainedAggregate, Meta, RecordedEvent

GUARD_ID = uuid5(NAMESPACE_URL, "urn:crafting:deactivation-guard")
# Counted deactivations older than this are forgotten (the window may not be longer).
LONGEST_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class GuardPolicy:
    """How many deactivations pass before the rest is held. `directory_size` is the
    number of active people as the front door reads it now (the wave's own applied
    deactivations are added back, so the share is of the directory before the wave)."""

    directory_size: int
    max_share: float
    window: timedelta
    min_people: int  # small directories: a wave of this many always passes

    def allowed(self, recently_counted: int) -> int:
        size = self.directory_size + recently_counted
        return max(self.min_people, math.floor(self.max_share * size))


class DeactivationGuard(ChainedAggregate):
    """The recent guarded deactivations, and the held ones waiting for HR."""

    class Opened(RecordedEvent, Aggregate.Created):
        pass

    class DeactivationsCounted(RecordedEvent):
        person_ids: list[str]

        def apply(self, guard: DeactivationGuard) -> None:
            guard.forget_before(self.timestamp - LONGEST_WINDOW)
            guard.counted.extend((self.timestamp, pid) for pid in self.person_ids)

    class DeactivationsHeld(RecordedEvent):
        person_ids: list[str]

        def apply(self, guard: DeactivationGuard) -> None:
            for pid in self.person_ids:
                guard.held.setdefault(pid, self.timestamp)

    class HoldReleased(RecordedEvent):
        person_ids: list[str]
        confirmed: bool  # True: HR confirmed, the people were deactivated

        def apply(self, guard: DeactivationGuard) -> None:
            for pid in self.person_ids:
                guard.held.pop(pid, None)

    def __init__(self) -> None:
        self.counted: list[tuple[datetime, str]] = []
        self.held: dict[str, datetime] = {}  # person id -> when first held

    @classmethod
    def open(cls, meta: Meta) -> DeactivationGuard:
        guard: DeactivationGuard = cls._create(cls.Opened, id=GUARD_ID, **meta.event_fields())
        return guard

    def forget_before(self, cutoff: datetime) -> None:
        self.counted = [(at, pid) for at, pid in self.counted if at >= cutoff]

    def recent(self, now: datetime, window: timedelta) -> int:
        """How many guarded deactivations were applied within the window."""
        return sum(1 for at, _ in self.counted if at > now - window)

    def admit(
        self, person_ids: list[str], now: datetime, policy: GuardPolicy, meta: Meta
    ) -> list[str]:
        """Count the deactivations that may pass and hold the others; returns the held.
        While a wave is held, every further deactivation joins it: HR decides on the
        wave as a whole."""
        new = [pid for pid in person_ids if pid not in self.held]
        if not new:
            return list(person_ids)
        recent = self.recent(now, policy.window)
        if not self.held and recent + len(new) <= policy.allowed(recent):
            self.trigger_event(self.DeactivationsCounted, person_ids=new, **meta.event_fields())
            return [pid for pid in person_ids if pid in self.held]
        self.trigger_event(self.DeactivationsHeld, person_ids=new, **meta.event_fields())
        return list(person_ids)

    def withdraw(self, person_ids: list[str], meta: Meta) -> None:
        """The provider reactivated held people: their deactivation is no longer asked."""
        held = [pid for pid in person_ids if pid in self.held]
        if held:
            self.trigger_event(
                self.HoldReleased, person_ids=held, confirmed=False, **meta.event_fields()
            )

    def release(self, confirmed: bool, meta: Meta) -> list[str]:
        """HR's decision on the whole held wave; returns its people (oldest first)."""
        wave = sorted(self.held, key=lambda pid: (self.held[pid], pid))
        if wave:
            self.trigger_event(
                self.HoldReleased, person_ids=wave, confirmed=confirmed, **meta.event_fields()
            )
        return wave
