"""The webhook follower's tables. Operational state, not read models: they are not
rebuilt with the projections (the queue and its attempts are history of their own), so a
change here is a migration in infra/migrations/service (docs/migrations.md).

Times are seconds since the epoch (the sender's clock), as for the followers' status."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

webhook_metadata = MetaData()
ID = String(36)

# Signing secrets: never in an event (immutable, hashed, exported, in the audit log
# and the change feed). Rows are deleted when a subscription is deleted, and an old
# generation's row once its grace period is over.
secrets = Table(
    "crafting_webhook_secrets",
    webhook_metadata,
    Column("subscription_id", ID, primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("secret", String(100), nullable=False),
    Column("valid_until", Float),  # None: no end (the current generation)
)

# Subscriptions as their events say, kept by the planner in step with its position.
subscriptions = Table(
    "crafting_webhook_subscriptions",
    webhook_metadata,
    Column("subscription_id", ID, primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("team_id", String(128)),
    Column("owner_id", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_reason", String(2000)),
    # The stream's version as of the last event planned: what expectedVersion compares
    # with, shown beside the status it goes with.
    Column("version", BigInteger, nullable=False),
    Column("created_position", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Routing by team: an agreement's employee, a person's team (as of the log position).
agreement_owners = Table(
    "crafting_webhook_agreements",
    webhook_metadata,
    Column("agreement_id", ID, primary_key=True),
    Column("employee_id", String(200), nullable=False),
)
person_teams = Table(
    "crafting_webhook_people",
    webhook_metadata,
    Column("stream_id", ID, primary_key=True),
    Column("person_id", String(200), nullable=False),
    Column("team_id", String(128)),
    Index("ix_webhook_people_person", "person_id"),  # a batch reads its people's teams
)

# An older release's planner kept its position in crafting_webhook_state; migration
# s0003 moved it with every follower's (crafting_follower_positions) and dropped it.

# The queue and the delivery log: one row per message and subscription, sent in `id`
# order per subscription (so in log order, hence in order per agreement).
outbox = Table(
    "crafting_webhook_outbox",
    webhook_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", ID, nullable=False),
    Column("message_id", String(100), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("agreement_id", ID),
    Column("person_id", String(200)),
    Column("due_on", Date),  # review.due only
    Column("status", String(16), nullable=False),  # PENDING, DELIVERED
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("first_failed_at", Float),
    Column("last_attempt_at", Float),
    Column("last_status_code", Integer),
    Column("last_latency_ms", Float),
    Column("last_error", String(300)),  # a short excerpt only
    Column("delivered_at", Float),
    UniqueConstraint("subscription_id", "message_id", name="uq_webhook_outbox_message"),
    Index("ix_webhook_outbox_queue", "subscription_id", "status", "id"),
    Index("ix_webhook_outbox_position", "subscription_id", "position"),
)

PENDING = "PENDING"
DELIVERED = "DELIVERED"

# Attempts and failures per subscription, added to as outcomes are written: /metrics of
# every process reads them (the sender may run in another process).
delivery_stats = Table(
    "crafting_webhook_delivery_stats",
    webhook_metadata,
    Column("subscription_id", ID, primary_key=True),
    Column("attempts", BigInteger, nullable=False),
    Column("failures", BigInteger, nullable=False),
)
