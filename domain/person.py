"""The people directory as events: who managed whom, and when, stays on record."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, DomainEvent

from domain.errors import InvalidTransition, LegalHold
from domain.metadata import ChainedAggregate, Meta, RecordedEvent
from domain.sealing import ERASED
from domain.values import email, hours, optional_text, person_id, reason, text

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


@dataclass(frozen=True)
class Provisioning:
    """What an identity provider (SCIM) keeps about a person beside the profile: its own
    id for them, the employee number, and whether it removed them (deprovisioned people
    stay in the directory, inactive: nothing is erased, their history still reads)."""

    external_id: str | None = None
    employee_number: str | None = None
    deprovisioned: bool = False

    def validated(self, field: str) -> Provisioning:
        return Provisioning(
            external_id=optional_text(self.external_id, f"{field}.externalId", max_length=128),
            employee_number=optional_text(
                self.employee_number, f"{field}.employeeNumber", max_length=128
            ),
            deprovisioned=self.deprovisioned,
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

    class ProvisioningChanged(RecordedEvent):
        provisioning: Provisioning

        def apply(self, person: Person) -> None:
            person.provisioning = self.provisioning

    class LegalHoldPlaced(RecordedEvent):
        def apply(self, person: Person) -> None:
            person.on_hold = True

    class LegalHoldLifted(RecordedEvent):
        def apply(self, person: Person) -> None:
            person.on_hold = False

    class PersonErased(RecordedEvent):
        """Their data key was destroyed with this event: it holds no personal data of
        theirs. Its reason is HR's, not the erased person's, and is recorded in clear so
        the audit log still says why (HR is told to keep personal data out of it).
        Erasures recorded before this sealed the reason under the destroyed key: those
        read "[erased]" (docs/architecture.md, "Personal data")."""

        NOT_PERSONAL: ClassVar[frozenset[str]] = frozenset({"reason"})

        def apply(self, person: Person) -> None:
            person.erased = True

    # Read from the class by people registered before holds and erasure existed.
    on_hold = False
    erased = False

    def __init__(self, person_id: str, profile: Profile) -> None:
        self.person_id = person_id
        self.profile = profile
        # A separate event, not a profile field: profiles pushed by other front doors
        # (upsertPeople) leave it as it is, and stored profiles keep their hashes.
        self.provisioning = Provisioning()

    def __deepcopy__(self, memo: dict[int, object]) -> Person:
        """The library copies a cached person each time a command or a read looks them
        up (every command reads at least one: its employee's manager). A person's
        state is immutable values (texts, frozen profile and provisioning, the frozen
        last event), shared with the copy; anything else (the pending events' list) is
        copied. Python's walk of the frozen dataclasses was ~0.045 ms a lookup."""
        copy = object.__new__(type(self))
        memo[id(self)] = copy
        copy.__dict__.update(
            (k, v if isinstance(v, _IMMUTABLE) else deepcopy(v, memo))
            for k, v in self.__dict__.items()
        )
        return copy

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
        """Record the new profile; False when nothing changed (nothing recorded). Of an
        erased person only what identifies nobody can change: a directory that still
        lists them keeps their manager, team and status in step, never their name."""
        if self.erased:
            profile = replace(profile, display_name=ERASED, email=ERASED)
        if profile == self.profile:
            return False
        self.trigger_event(self.ProfileChanged, profile=profile, **meta.event_fields())
        return True

    def provision(self, provisioning: Provisioning, meta: Meta) -> bool:
        """Record what the identity provider keeps; False when nothing changed."""
        if provisioning == self.provisioning:
            return False
        self.trigger_event(
            self.ProvisioningChanged, provisioning=provisioning, **meta.event_fields()
        )
        return True

    def place_hold(self, meta: Meta) -> None:
        """Keep their data: erasure is refused until the hold is lifted."""
        reason(meta.reason)
        if self.erased:
            raise InvalidTransition(f"'{self.person_id}' was erased: there is nothing to hold.")
        if self.on_hold:
            raise InvalidTransition(f"'{self.person_id}' is already under a legal hold.")
        self.trigger_event(self.LegalHoldPlaced, **meta.event_fields())

    def lift_hold(self, meta: Meta) -> None:
        reason(meta.reason)
        if not self.on_hold:
            raise InvalidTransition(f"'{self.person_id}' is not under a legal hold.")
        self.trigger_event(self.LegalHoldLifted, **meta.event_fields())

    def erase(self, meta: Meta) -> None:
        """Record their erasure (the caller destroys their key in the same transaction)."""
        reason(meta.reason)
        if self.on_hold:
            raise LegalHold(
                f"'{self.person_id}' is under a legal hold: lift it before erasing them."
            )
        if self.erased:
            raise InvalidTransition(f"'{self.person_id}' was already erased.")
        self.trigger_event(self.PersonErased, **meta.event_fields())


# What a person's state holds that no one changes in place (see Person.__deepcopy__).
_IMMUTABLE = (str, int, float, bool, type(None), UUID, datetime, Profile, Provisioning, DomainEvent)
