"""The inputs of HR's decision on a held deactivation wave."""

from __future__ import annotations

import strawberry

from domain.application import commands as c


@strawberry.input
class DeactivationWaveInput:
    reason: str | None = None
    idempotency_key: str | None = None
    person_ids: list[str] | None = strawberry.field(
        default=None,
        description=(
            "The held people you were shown (heldDeactivations). When given, the decision "
            "is refused with VERSION_CONFLICT unless the wave is exactly them: the identity "
            "provider may add to it at any moment, and HR should not decide on someone "
            "they have not seen."
        ),
    )

    def _people(self) -> tuple[str, ...] | None:
        return None if self.person_ids is None else tuple(self.person_ids)

    def confirm(self) -> c.ConfirmDeactivations:
        """Apply the held wave."""
        return c.ConfirmDeactivations(
            reason=self.reason, idempotency_key=self.idempotency_key, people=self._people()
        )

    def dismiss(self) -> c.DismissDeactivations:
        """Drop the held wave."""
        return c.DismissDeactivations(
            reason=self.reason, idempotency_key=self.idempotency_key, people=self._people()
        )
