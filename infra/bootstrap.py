"""The one place that wires the service together (tests call it too)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.application import CraftingApplication
from infra.database import Engines, create_engines
from infra.persistence import eventsourcing_env, position_lookup
from infra.settings import Settings
from projections.runner import ProjectionRunner


@dataclass
class Container:
    settings: Settings
    app: CraftingApplication
    engines: Engines
    runner: ProjectionRunner

    def close(self) -> None:
        self.runner.stop()
        self.app.close()
        self.engines.dispose()


def bootstrap(settings: Settings | None = None) -> Container:
    """Build the application, the read-model engines and the projection runner."""
    settings = settings or Settings()
    app = CraftingApplication(
        env=eventsourcing_env(settings.database_url),
        max_hours_received_per_week=settings.max_hours_received_per_week,
    )
    app.set_position_lookup(position_lookup(app.recorder))
    engines = create_engines(settings.database_url)
    runner = ProjectionRunner(
        engines.writer,
        app.recorder,
        app.mapper,
        postgres_dsn=None if settings.is_sqlite else settings.database_url.split("?")[0],
        reader=engines.reader,
        batch_size=settings.projector_batch_size,
        batch_pause=settings.projector_batch_pause,
    )
    app.on_saved(runner.wake)
    return Container(settings=settings, app=app, engines=engines, runner=runner)
