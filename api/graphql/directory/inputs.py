"""The inputs of HR's decision on a held deactivation wave."""

from __future__ import annotations

import strawberry

from domain.application import commands as c


@strawberry.input
class DeactivationWaveInput:
    reason: str | None = None
    idempotency_key: str | None = None

    def confirm(self) -> c.ConfirmDeactivations:
        """Apply the held wave."""
        return c.ConfirmDeactivations(reason=self.reason, idempotency_key=self.idempotency_key)

    def dismiss(self) -> c.DismissDeactivations:
        """Drop the held wave."""
        return c.DismissDeactivations(reason=self.reason, idempotency_key=self.idempotency_key)
