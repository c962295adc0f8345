"""The tables that cannot be rebuilt as release 0.1.0 made them (`create_all`, before
migrations), frozen here, and a row for each: what a migration must carry over."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

tables = MetaData()
keys = MetaData()
ID = String(36)

Table(
    "crafting_webhook_secrets",
    tables,
    Column("subscription_id", ID, primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("secret", String(100), nullable=False),
    Column("valid_until", Float),
)
Table(
    "crafting_webhook_subscriptions",
    tables,
    Column("subscription_id", ID, primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("team_id", String(128)),
    Column("owner_id", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_reason", String(2000)),
    Column("created_position", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Table(
    "crafting_webhook_agreements",
    tables,
    Column("agreement_id", ID, primary_key=True),
    Column("employee_id", String(200), nullable=False),
)
Table(
    "crafting_webhook_people",
    tables,
    Column("stream_id", ID, primary_key=True),
    Column("person_id", String(200), nullable=False),
    Column("team_id", String(128)),
)
Table(
    "crafting_webhook_state",
    tables,
    Column("name", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
)
Table(
    "crafting_webhook_outbox",
    tables,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", ID, nullable=False),
    Column("message_id", String(100), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("agreement_id", ID),
    Column("person_id", String(200)),
    Column("due_on", Date),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("first_failed_at", Float),
    Column("last_attempt_at", Float),
    Column("last_status_code", Integer),
    Column("last_latency_ms", Float),
    Column("last_error", String(300)),
    Column("delivered_at", Float),
    UniqueConstraint("subscription_id", "message_id", name="uq_webhook_outbox_message"),
    Index("ix_webhook_outbox_queue", "subscription_id", "status", "id"),
    Index("ix_webhook_outbox_position", "subscription_id", "position"),
)
Table(
    "crafting_checkpoints",
    tables,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("peaks", JSON, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("signature", String(100), nullable=False),
    Column("public_key", String(60), nullable=False),
)
Table(
    "web_used_tokens",
    tables,
    Column("token_id", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)
Table(
    "crafting_data_keys",
    keys,
    Column("subject_id", String(128), primary_key=True),
    Column("key_id", String(64), nullable=False, unique=True),
    Column("wrapped", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
)

SUBSCRIPTION = "6f1c2a9e-0000-4000-8000-000000000001"
AGREEMENT = "6f1c2a9e-0000-4000-8000-000000000002"
WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
ROWS: dict[str, list[dict[str, Any]]] = {
    "crafting_webhook_secrets": [
        {
            "subscription_id": SUBSCRIPTION,
            "generation": 1,
            "secret": "whsec_old",
            "valid_until": 1.5,
        },
        {
            "subscription_id": SUBSCRIPTION,
            "generation": 2,
            "secret": "whsec_new",
            "valid_until": None,
        },
    ],
    "crafting_webhook_subscriptions": [
        {
            "subscription_id": SUBSCRIPTION,
            "url": "https://hooks.example.com/crafting",
            "event_types": ["agreement.approved", "review.due"],
            "team_id": "qa",
            "owner_id": "workday",
            "role": "INTEGRATION",
            "status": "ACTIVE",
            "status_reason": None,
            "created_position": 17,
            "created_at": 1764000000.25,
            "updated_at": 1764000001.5,
        }
    ],
    "crafting_webhook_agreements": [{"agreement_id": AGREEMENT, "employee_id": "sam-tester"}],
    "crafting_webhook_people": [
        {
            "stream_id": "6f1c2a9e-0000-4000-8000-000000000003",
            "person_id": "sam-tester",
            "team_id": "qa",
        }
    ],
    # The planner's position, under the name that release gave it: s0003 moves it to the
    # followers' positions.
    "crafting_webhook_state": [{"name": "webhooks", "position": 2_000_000_000}],
    "crafting_webhook_outbox": [
        {
            "id": 41,
            "subscription_id": SUBSCRIPTION,
            "message_id": "msg_41",
            "event_type": "review.due",
            "position": 1_999_999_999,
            "agreement_id": AGREEMENT,
            "person_id": "sam-tester",
            "due_on": date(2026, 12, 1),
            "status": "PENDING",
            "attempts": 3,
            "created_at": 1764000002.0,
            "next_attempt_at": 1764000060.0,
            "first_failed_at": 1764000003.0,
            "last_attempt_at": 1764000030.0,
            "last_status_code": 503,
            "last_latency_ms": 120.5,
            "last_error": "503 Service Unavailable",
            "delivered_at": None,
        }
    ],
    "crafting_checkpoints": [
        {
            "position": 4096,
            "size": 4096,
            "root": "ab" * 32,
            "peaks": ["cd" * 32],
            "recorded_at": "2026-11-24T09:30:00+00:00",
            "signature": "sig" * 20,
            "public_key": "pk" * 20,
        }
    ],
    "web_used_tokens": [{"token_id": "t" * 64, "expires_at": WHEN}],
    "crafting_data_keys": [
        {
            "subject_id": "sam-tester",
            "key_id": "k-sam",
            "wrapped": b"\x00wrapped\xff" * 4,
            "created_at": WHEN,
            "destroyed_at": None,
        },
        {
            "subject_id": "tess-temp",
            "key_id": "k-tess",
            "wrapped": None,
            "created_at": WHEN,
            "destroyed_at": WHEN,
        },
    ],
}
