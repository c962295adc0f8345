"""The people directory as events: who managed whom, and when, stays on record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.metadata import ChainedAggregate, Meta, RecordedEvent
from domain.values import email, hours, optional_text, person_id, text

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:crafting:person")


@dataclass(frozen=True)
class Profile:
    PERSONAL: ClassVar[tuple[str, ...]] = ("display_name", "email")  # sealed (domain.sealing)

    display_name: str
    email: str
    manager_id: str | None
    team_id: str | None
    contracted_hours_per_week: float
    active: bool

    def validated(self, field: str) -> Profile:
        return Profile(
            display_name=text(self.display_name, f"{field}.displayName", max_length=200),
            email=email(self.email, f"{field}.email"),
            manager_id=(
                None
                if self.manager_id is None or not self.manager_id.strip()
                else person_id(self.manager_id, f"{field}.managerId")
            ),
            team_id=optional_text(self.team_id, f"{field}.teamId", max_length=128),
            contracted_hours_per_week=hours(
                self.contracted_hours_per_week, f"{field}.contractedHoursPerWeek"
            ),
            active=self.active,
        )


class Person(ChainedAggregate):
    """A directory entry, keyed by a UUID derived from the HRIS id."""

    SUBJECT_FIELD = "person_id"  # their name and e-mail are sealed under their own key

    class Registered(RecordedEvent, Aggregate.Created):
        person_id: str
        profile: Profile

    class ProfileChanged(RecordedEvent):
        profile: Profile

        def apply(self, person: Person) -> None:
            person.profile = self.profile

    def __init__(self, person_id: str, profile: Profile) -> None:
        self.person_id = person_id
        self.profile = profile

    @staticmethod
    def id_for(person_id: str) -> UUID:
        return uuid5(_NAMESPACE, person_id)

    @classmethod
    def register(cls, person_id: str, profile: Profile, meta: Meta) -> Person:
        created: Person = cls._create(
            cls.Registered,
            id=cls.id_for(person_id),
            person_id=person_id,
            profile=profile,
            **meta.event_fields(),
        )
        return created

    def update(self, profile: Profile, meta: Meta) -> bool:
        """Record the new profile; False when nothing changed (nothing recorded)."""
        if profile == self.profile:
            return False
        self.trigger_event(self.ProfileChanged, profile=profile, **meta.event_fields())
        return True
