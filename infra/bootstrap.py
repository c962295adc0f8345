"""The one place that wires the service together (tests call it too)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.application import CraftingApplication
from infra.persistence import eventsourcing_env, position_lookup
from infra.settings import Settings


@dataclass
class Container:
    settings: Settings
    app: CraftingApplication

    def close(self) -> None:
        self.app.close()


def bootstrap(settings: Settings | None = None) -> Container:
    """Build the application for the configured database."""
    settings = settings or Settings()
    app = CraftingApplication(
        env=eventsourcing_env(settings.database_url),
        max_hours_received_per_week=settings.max_hours_received_per_week,
    )
    app.set_position_lookup(position_lookup(app.recorder))
    return Container(settings=settings, app=app)
