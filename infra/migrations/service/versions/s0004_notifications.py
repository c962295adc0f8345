"""E-mail notifications: the routing they plan with, their outbox (ids only, never an
address or a text), what each person chose, and the addresses that bounced.

Revision ID: s0004
Revises: s0003

Their follower's position lives with every follower's (crafting_follower_positions,
s0003); it starts at the log's end when first deployed (infra.bootstrap).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from infra.migrations.steps import create_table_if_missing

revision = "s0004"
down_revision = "s0003"
branch_labels = None
depends_on = None

ID = sa.String(36)
PERSON = sa.String(200)


def upgrade() -> None:
    """Create the notification tables."""
    create_table_if_missing(
        "crafting_notify_people",
        sa.Column("stream_id", ID, primary_key=True),
        sa.Column("person_id", PERSON, nullable=False, unique=True),
        sa.Column("manager_id", PERSON),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("erased", sa.Boolean, nullable=False),
    )
    create_table_if_missing(
        "crafting_notify_agreements",
        sa.Column("agreement_id", ID, primary_key=True),
        sa.Column("employee_id", PERSON, nullable=False),
    )
    if create_table_if_missing(
        "crafting_notify_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_key", sa.String(120), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("agreement_id", ID),
        sa.Column("subject_person_id", PERSON),
        sa.Column("recipient_id", PERSON, nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("sent_at", sa.Float),
        sa.Column("read_at", sa.Float),
        sa.Column("last_error", sa.String(200)),
    ):
        op.create_index(
            "ix_notify_outbox_due", "crafting_notify_outbox", ["status", "next_attempt_at"]
        )
        op.create_index(
            "ix_notify_outbox_recipient", "crafting_notify_outbox", ["recipient_id", "id"]
        )
    create_table_if_missing(
        "crafting_notify_preferences",
        sa.Column("person_id", PERSON, primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("mode", sa.String(16), nullable=False),
    )
    create_table_if_missing(
        "crafting_notify_digest_times",
        sa.Column("person_id", PERSON, primary_key=True),
        sa.Column("hour", sa.SmallInteger, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
    )
    create_table_if_missing(
        "crafting_notify_bounces",
        sa.Column("person_id", PERSON, primary_key=True),
        sa.Column("address_hash", sa.String(64), primary_key=True),
        sa.Column("bounced_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    """Not supported: the outbox and the choices people made cannot be rebuilt."""
    raise NotImplementedError("the notification tables are not undone")
