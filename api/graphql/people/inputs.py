"""The inputs of the directory mutation (`upsertPeople`)."""

from __future__ import annotations

import strawberry

from api.graphql.commands import ValueInput
from domain.application import commands as c
from domain.person import Profile


@strawberry.input
class PersonInput(ValueInput):
    VALUE = Profile
    id: str
    display_name: str
    email: str
    contracted_hours_per_week: float
    manager_id: str | None = None
    team_id: str | None = None
    active: bool = True

    def entry(self) -> c.DirectoryEntry:
        """The person's id and directory profile, as the directory command takes them."""
        return c.DirectoryEntry(self.id, self.value())


@strawberry.input
class UpsertPeopleInput:
    people: list[PersonInput]
    idempotency_key: str | None = None

    def command(self) -> c.UpsertPeople:
        """The directory command this input asks for."""
        return c.UpsertPeople(
            idempotency_key=self.idempotency_key, people=[p.entry() for p in self.people]
        )


@strawberry.input(description="Erase a person (HR): their data key is destroyed.")
class ErasePersonInput:
    person_id: str
    reason: str = strawberry.field(
        description="Why HR erases them (required, at most 2000 characters, the rules of "
        "every reason). It stays readable after the erasure, in the audit log and on "
        "their page: write no personal data in it (no names, health or contact details)."
    )
    idempotency_key: str | None = None


@strawberry.input(description="Place or lift a legal hold on a person (HR).")
class LegalHoldInput:
    person_id: str
    reason: str
    idempotency_key: str | None = None
