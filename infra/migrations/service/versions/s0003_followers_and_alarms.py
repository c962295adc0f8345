"""The followers of the log and the alarms: every consumer's position in one table (the
webhook planner's moved there from crafting_webhook_state), the followers' status and
quarantine, the alarms, and the webhook delivery counters.

Revision ID: s0003
Revises: s0002

The webhook planner's position is copied before its old table is dropped, so an
upgraded service goes on from where the previous release stopped: no event is planned
twice, none is missed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from infra.migrations.steps import create_table_if_missing, has_table

revision = "s0003"
down_revision = "s0002"
branch_labels = None
depends_on = None

ID = sa.String(36)
LEGACY_PLANNER_STATE = "crafting_webhook_state"
WEBHOOK_PLANNER = "webhooks"  # the name both releases give the planner's position


def upgrade() -> None:
    """Create the followers', quarantine, alarm and delivery-counter tables; move the
    webhook planner's position into the followers' positions."""
    create_table_if_missing(
        "crafting_follower_positions",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    create_table_if_missing(
        "crafting_follower_status",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("leader", sa.String(200), nullable=False),
        sa.Column("beat_at", sa.Float, nullable=False),
        sa.Column("caught_up_at", sa.Float, nullable=False),
        sa.Column("position", sa.BigInteger),
        sa.Column("last_error", sa.String(300)),
        sa.Column("last_error_at", sa.Float),
    )
    if create_table_if_missing(
        "crafting_follower_quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("follower", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("error", sa.String(300), nullable=False),
        sa.Column("quarantined_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
        sa.Column("resolved_by", sa.String(200)),
        sa.Column("resolution", sa.String(20)),
        sa.Column("note", sa.String(1000)),
    ):
        _open_only_index(
            "uq_crafting_follower_quarantine_open",
            "crafting_follower_quarantine",
            ["follower", "position"],
        )
    if create_table_if_missing(
        "crafting_alarms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("detail", sa.String(1000), nullable=False),
        sa.Column("raised_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
        sa.Column("resolved_by", sa.String(200)),
        sa.Column("resolution", sa.String(1000)),
    ):
        _open_only_index("uq_crafting_alarms_open", "crafting_alarms", ["kind", "subject"])
    create_table_if_missing(
        "crafting_webhook_delivery_stats",
        sa.Column("subscription_id", ID, primary_key=True),
        sa.Column("attempts", sa.BigInteger, nullable=False),
        sa.Column("failures", sa.BigInteger, nullable=False),
    )
    if has_table(LEGACY_PLANNER_STATE):
        op.execute(
            sa.text(
                "INSERT INTO crafting_follower_positions (name, position)"
                " SELECT name, position FROM crafting_webhook_state WHERE name = :name"
                " AND NOT EXISTS (SELECT 1 FROM crafting_follower_positions WHERE name = :name)"
            ).bindparams(name=WEBHOOK_PLANNER)
        )
        op.drop_table(LEGACY_PLANNER_STATE)


def _open_only_index(name: str, table: str, columns: list[str]) -> None:
    """At most one unresolved row per `columns` (a partial unique index)."""
    where = sa.text("resolved_at IS NULL")
    op.create_index(name, table, columns, unique=True, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    """Not supported: quarantined events and alarms are history of their own."""
    raise NotImplementedError("the followers' tables are not undone")
