"""Notifications' tables (the follower keeps their position with every other
consumer's, in crafting_follower_positions)."""

from __future__ import annotations

from sqlalchemy import Engine

from infra.notifications.tables import notify_metadata


def ensure_tables(engine: Engine) -> None:
    """Create the notification tables on first use."""
    notify_metadata.create_all(engine)
