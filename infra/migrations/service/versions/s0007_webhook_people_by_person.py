"""The webhook planner's people by person id: a batch reads the teams of the people its
events concern (an agreement's owner) instead of every person's row.

Revision ID: s0007
Revises: s0006
"""

from __future__ import annotations

from alembic import op

from infra.migrations.steps import create_index_if_missing

revision = "s0007"
down_revision = "s0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Index the people by person id."""
    create_index_if_missing("ix_webhook_people_person", "crafting_webhook_people", ["person_id"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_webhook_people_person", "crafting_webhook_people")
