"""Each webhook subscription's version (its stream's, as of the last event planned), so a
subscription read from `webhookSubscriptions` carries the version its status goes with:
what a client passes as expectedVersion.

Revision ID: s0006
Revises: s0005

Rows planned before the column existed take their stream's version from the events
table (the service tables live in the events' database); a row whose stream the table
does not hold (none in practice) starts at 1, its creation's version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from infra.migrations.steps import has_table, is_sqlite

revision = "s0006"
down_revision = "s0005"
branch_labels = None
depends_on = None

TABLE = "crafting_webhook_subscriptions"
# The library's events table as its stores name it: after the application ("Crafting")
# on PostgreSQL, the library's default on SQLite.
EVENTS = {"postgresql": "crafting_events", "sqlite": "stored_events"}


def upgrade() -> None:
    """Add the column, fill it from the log, then drop the default used to fill it."""
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("version", sa.BigInteger, nullable=False, server_default="1"))
    events = EVENTS.get(op.get_bind().dialect.name, "")
    if events and has_table(events):
        # The stores keep an id as a UUID (PostgreSQL) or as its 32 hex digits (SQLite).
        same_stream = (
            f"e.originator_id = REPLACE({TABLE}.subscription_id, '-', '')"
            if is_sqlite()
            else f"CAST(e.originator_id AS VARCHAR(36)) = {TABLE}.subscription_id"
        )
        op.execute(
            sa.text(
                f"UPDATE {TABLE} SET version = COALESCE(("  # noqa: S608 (names fixed above)
                f"SELECT MAX(e.originator_version) FROM {events} e WHERE {same_stream}"
                "), 1)"
            )
        )
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("version", server_default=None, existing_type=sa.BigInteger)


def downgrade() -> None:
    """Drop the column (the log keeps every version)."""
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("version")
