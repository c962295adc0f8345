"""Log positions in the webhook tables are 64-bit, as in the event store and the read
models: a 32-bit column would refuse the planner's position after 2^31 events.

Revision ID: s0002
Revises: s0001

PostgreSQL widens the columns in place; SQLite (whose integers are 64-bit already)
copies each table into one declaring BIGINT, rows, indexes and constraints included.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None

COLUMNS = {
    "crafting_webhook_state": ["position"],
    "crafting_webhook_subscriptions": ["created_position"],
    "crafting_webhook_outbox": ["position"],
}


def upgrade() -> None:
    """Widen the position columns to BIGINT, keeping every row."""
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column, type_=sa.BigInteger, existing_type=sa.Integer, existing_nullable=False
                )


def downgrade() -> None:
    """Not supported: a position past 2^31 would not fit back."""
    raise NotImplementedError("positions are not narrowed again")
