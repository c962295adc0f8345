"""A held deactivation, as HR sees it before deciding on the wave."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.commands import UserError
from api.graphql.people.types import Person


@strawberry.type(description="A deactivation an identity provider asked for, held for HR.")
class HeldDeactivation:
    person_id: str
    held_at: datetime
    person: Person | None


@strawberry.type
class DeactivationWavePayload:
    people: list[Person] = strawberry.field(
        description="The wave's people as they are after the decision."
    )
    position: int | None
    replayed: bool
    user_errors: list[UserError]
