"""`crafting migrate`: the migrations of the tables that cannot be rebuilt, run alone."""

from __future__ import annotations

import typer

from infra import migrations
from infra.bootstrap import bootstrap


def migrate() -> None:
    """Migrate the tables that cannot be rebuilt (webhooks, notifications, the followers'
    positions, alarms, checkpoints, used sign-in tokens, data keys) to this version;
    `serve` does it too as it starts."""
    container = bootstrap()  # migrates the data keys' table as it opens the key store
    try:
        ran = container.migrate()
        at = migrations.current(container.engines.writer)
        done = f"migrated {' → '.join(ran)}" if ran else "up to date"
        typer.echo(
            "Webhooks, notifications, followers, alarms, checkpoints and used sign-in"
            f" tokens: {done} (revision {at})."
        )
        keys_at = migrations.current(container.keys.store.engine, migrations.KEYS)
        typer.echo(f"Data keys: up to date (revision {keys_at}).")
    finally:
        container.close()
