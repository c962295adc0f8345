"""Baseline: the tables as release 0.1.0 made them (with `create_all`, before migrations).

Revision ID: s0001
Revises: (none)

A database of that release already holds them: each is created only when missing, so
its rows stay as they are. Frozen: later changes are later migrations, never edits here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from infra.migrations.steps import create_table_if_missing

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(36)


def upgrade() -> None:
    """Create the release's webhook, checkpoint and used-token tables where missing."""
    create_table_if_missing(
        "crafting_webhook_secrets",
        sa.Column("subscription_id", ID, primary_key=True),
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("valid_until", sa.Float),
    )
    create_table_if_missing(
        "crafting_webhook_subscriptions",
        sa.Column("subscription_id", ID, primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event_types", sa.JSON, nullable=False),
        sa.Column("team_id", sa.String(128)),
        sa.Column("owner_id", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(2000)),
        sa.Column("created_position", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    create_table_if_missing(
        "crafting_webhook_agreements",
        sa.Column("agreement_id", ID, primary_key=True),
        sa.Column("employee_id", sa.String(200), nullable=False),
    )
    create_table_if_missing(
        "crafting_webhook_people",
        sa.Column("stream_id", ID, primary_key=True),
        sa.Column("person_id", sa.String(200), nullable=False),
        sa.Column("team_id", sa.String(128)),
    )
    create_table_if_missing(
        "crafting_webhook_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    if create_table_if_missing(
        "crafting_webhook_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("agreement_id", ID),
        sa.Column("person_id", sa.String(200)),
        sa.Column("due_on", sa.Date),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("first_failed_at", sa.Float),
        sa.Column("last_attempt_at", sa.Float),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_latency_ms", sa.Float),
        sa.Column("last_error", sa.String(300)),
        sa.Column("delivered_at", sa.Float),
        sa.UniqueConstraint("subscription_id", "message_id", name="uq_webhook_outbox_message"),
    ):
        op.create_index(
            "ix_webhook_outbox_queue",
            "crafting_webhook_outbox",
            ["subscription_id", "status", "id"],
        )
        op.create_index(
            "ix_webhook_outbox_position", "crafting_webhook_outbox", ["subscription_id", "position"]
        )
    create_table_if_missing(
        "crafting_checkpoints",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("peaks", sa.JSON, nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.Column("public_key", sa.String(60), nullable=False),
    )
    if create_table_if_missing(
        "web_used_tokens",
        sa.Column("token_id", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    ):
        op.create_index("ix_web_used_tokens_expires_at", "web_used_tokens", ["expires_at"])


def downgrade() -> None:
    """Not supported: these tables hold what cannot be rebuilt."""
    raise NotImplementedError("the baseline is not undone")
