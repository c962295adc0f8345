"""Single-use web tokens: the ids of sign-in links already used and of sessions signed
out, kept until they would have expired anyway (then a signature check refuses them).

One row per id; the insert is atomic (`ON CONFLICT DO NOTHING`), so of two requests
using one link at once exactly one wins, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Select,
    String,
    Table,
    delete,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

metadata = MetaData()
used_tokens = Table(
    "web_used_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)


@dataclass(frozen=True)
class UsedTokens:
    """The used token ids, on the writer engine (a use must see every earlier use)."""

    engine: Engine

    def use(self, token_id: str, expires_at: datetime) -> bool:
        """Mark the id used; True only for the first use (atomic). Ids past their
        expiry are dropped on the way: they can never be presented validly again."""
        insert = sqlite_insert if self.engine.dialect.name == "sqlite" else pg_insert
        with self.engine.begin() as conn:
            conn.execute(delete(used_tokens).where(used_tokens.c.expires_at < datetime.now(UTC)))
            inserted = conn.execute(
                insert(used_tokens)
                .values(token_id=token_id, expires_at=expires_at)
                .on_conflict_do_nothing(index_elements=["token_id"])
                .returning(used_tokens.c.token_id)  # a row only when this insert won
            ).first()
        return inserted is not None

    def used(self, token_id: str) -> bool:
        """Whether the id was used (a signed-out session, a used link)."""
        with self.engine.connect() as conn:
            return used_on(conn, token_id)


def used_on(conn: Connection, token_id: str) -> bool:
    """Whether the id was used, inside a transaction the caller holds on the primary
    (never a replica: a sign-out must count at once). On SQLite a plain read transaction
    will do: it sees every use committed before it began, without the write lock."""
    return conn.execute(used_query(token_id)).first() is not None


def used_query(token_id: str) -> Select[Any]:
    """The select whose row says the id was used (none: not used); `used_on` runs it, a
    caller with more to read in one statement asks whether it `exists()`."""
    return select(used_tokens.c.token_id).where(used_tokens.c.token_id == token_id)
