"""The followers' tables: one position per consumer, one status row per follower (its
heartbeat, leader and last error), and the events a consumer could not process.

Operational state, not read models: a rebuild of the read models does not touch them, so
a change here is a migration in infra/migrations/service (docs/migrations.md)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    text,
)

metadata = MetaData()

# The last log position each consumer has processed (64-bit, like the log's ids).
positions = Table(
    "crafting_follower_positions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# Written by each follower's leader about once a second. Times are the leader's wall
# clock (seconds since the epoch); hosts are expected to keep time (NTP).
status = Table(
    "crafting_follower_status",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("leader", String(200), nullable=False),  # host and process id
    Column("beat_at", Float, nullable=False),  # the last sign of life
    Column("caught_up_at", Float, nullable=False),  # the last time it was at the log's end
    Column("position", BigInteger),  # its consumer's position (None: no consumer)
    Column("last_error", String(300)),  # class and place, never data
    Column("last_error_at", Float),
)

# Events a consumer could not process and went past; resolved by retrying or
# acknowledging them (`crafting quarantine`). The error says what failed, never the
# event's data (it may be personal).
quarantine = Table(
    "crafting_follower_quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("follower", String(64), nullable=False),  # the consumer's name
    Column("position", BigInteger, nullable=False),
    Column("event_id", String(100), nullable=False),  # stream:version
    Column("topic", String(200), nullable=False),
    Column("error", String(300), nullable=False),
    Column("quarantined_at", Float, nullable=False),
    Column("resolved_at", Float),
    Column("resolved_by", String(200)),
    Column("resolution", String(20)),  # RETRIED, ACKNOWLEDGED
    Column("note", String(1000)),
    Index(
        "uq_crafting_follower_quarantine_open",
        "follower",
        "position",
        unique=True,
        sqlite_where=text("resolved_at IS NULL"),
        postgresql_where=text("resolved_at IS NULL"),
    ),
)
