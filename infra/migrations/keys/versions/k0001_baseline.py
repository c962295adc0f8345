"""Baseline: the data-key table as release 0.1.0 made it (with `create_all`, before
migrations).

Revision ID: k0001
Revises: (none)

A database of that release already holds it: it is created only when missing, so its
keys stay as they are. Frozen: later changes are later migrations, never edits here.
"""

from __future__ import annotations

import sqlalchemy as sa

from infra.migrations.steps import create_table_if_missing

revision = "k0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the data-key table where missing."""
    create_table_if_missing(
        "crafting_data_keys",
        sa.Column("subject_id", sa.String(128), primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False, unique=True),
        sa.Column("wrapped", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Not supported: destroying keys would erase everyone."""
    raise NotImplementedError("the baseline is not undone")
