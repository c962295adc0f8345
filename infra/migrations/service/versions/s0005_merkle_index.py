"""The checkpointed Merkle tree's index: each checkpointed event's leaf and the complete
subtrees of 256 leaves and more (infra/audit/merkle_index.py), written with each
checkpoint so one agreement can be proven part of the signed root without rehashing the
log.

Revision ID: s0005
Revises: s0004

A store checkpointed before the index existed is indexed at its next checkpoint, from the
log as stored then (an event edited since fails its proof, as it should).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from infra.migrations.steps import create_table_if_missing

revision = "s0005"
down_revision = "s0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the index's two tables."""
    if create_table_if_missing(
        "crafting_merkle_leaves",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("stream", sa.String(36), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    ):
        op.create_index(
            "crafting_merkle_leaves_stream", "crafting_merkle_leaves", ["stream", "version"]
        )
    create_table_if_missing(
        "crafting_merkle_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
