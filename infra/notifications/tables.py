"""The notification tables. Operational state, not read models: not rebuilt with the
projections, so a change here is a migration in infra/migrations/service
(docs/migrations.md). The outbox holds ids only (who, which event, which kind), never an
address or a text: a message is built when it is sent, so an erasure before then
leaves nothing personal to send. Times are seconds since the epoch."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
)

notify_metadata = MetaData()
ID = String(36)
PERSON = String(200)

# Routing as of the planner's position: who manages whom, who owns which agreement.
notify_people = Table(
    "crafting_notify_people",
    notify_metadata,
    Column("stream_id", ID, primary_key=True),
    Column("person_id", PERSON, nullable=False, unique=True),
    Column("manager_id", PERSON),
    Column("active", Boolean, nullable=False),
    Column("erased", Boolean, nullable=False),
)
notify_agreements = Table(
    "crafting_notify_agreements",
    notify_metadata,
    Column("agreement_id", ID, primary_key=True),
    Column("employee_id", PERSON, nullable=False),
)

# One row per (message, recipient): the Message-ID is derived from it, so a retry
# after a crash is the same mail.
outbox = Table(
    "crafting_notify_outbox",
    notify_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_key", String(120), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("position", Integer, nullable=False),  # the event's (review reminders: the agreement's)
    Column("agreement_id", ID),
    Column("subject_person_id", PERSON),  # whose data the message shows (erasure)
    Column("recipient_id", PERSON, nullable=False),
    Column("due_on", Date),  # review reminders only
    Column("delivery", String(16), nullable=False),  # IMMEDIATE or DIGEST
    Column("status", String(16), nullable=False),  # PENDING, SENT, SKIPPED, BOUNCED
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("sent_at", Float),
    Column("read_at", Float),  # seen on the Notifications page
    Column("last_error", String(200)),  # a category only, never the server's text
    Index("ix_notify_outbox_due", "status", "next_attempt_at"),
    Index("ix_notify_outbox_recipient", "recipient_id", "id"),
)

# What each person chose, per kind (no row: immediately).
preferences = Table(
    "crafting_notify_preferences",
    notify_metadata,
    Column("person_id", PERSON, primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("mode", String(16), nullable=False),  # IMMEDIATE, DAILY, OFF
)
digest_times = Table(
    "crafting_notify_digest_times",
    notify_metadata,
    Column("person_id", PERSON, primary_key=True),
    Column("hour", SmallInteger, nullable=False),
    Column("time_zone", String(64), nullable=False),
)

# Addresses that bounced for good, by a keyed hash (the address itself stays sealed):
# a new address for the person is tried again.
bounces = Table(
    "crafting_notify_bounces",
    notify_metadata,
    Column("person_id", PERSON, primary_key=True),
    Column("address_hash", String(64), primary_key=True),
    Column("bounced_at", Float, nullable=False),
)

PENDING = "PENDING"
SENT = "SENT"
SKIPPED = "SKIPPED"
BOUNCED = "BOUNCED"
IMMEDIATE = "IMMEDIATE"
DIGEST = "DIGEST"
