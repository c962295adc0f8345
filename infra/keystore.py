"""Data keys, one per data subject for life, wrapped by the master key (issue 14).

A subject's data key seals their personal data (domain.sealing). It is stored wrapped
(AES-256-GCM under the master key, bound to its key id and subject), so a dump of this
table alone opens nothing. Destroying it erases the subject: the row stays, without the
key, so no new key can ever be made for them and their old envelopes read as erased
rather than as unknown. Not wired into the service yet: bootstrap, settings and the
commands come with the rest of issue 14.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.sealing import new_data_key

metadata = MetaData()
data_keys = Table(
    "crafting_data_keys",
    metadata,
    Column("subject_id", String(128), primary_key=True),
    Column("key_id", String(64), nullable=False, unique=True),
    Column("wrapped", LargeBinary, nullable=True),  # None once destroyed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
)


class SubjectErased(Exception):
    """The subject's key was destroyed: nothing can be sealed for them any more."""


class WrongMasterKey(Exception):
    """A stored key does not unwrap with this master key (never shown as an erasure)."""


@dataclass(frozen=True)
class KeyStore:
    """The data keys in `engine`'s database, wrapped by `master_key` (32 bytes)."""

    engine: Engine
    master_key: bytes

    def __repr__(self) -> str:
        return f"KeyStore({self.engine.url!r})"  # never the master key

    def ensure_tables(self) -> None:
        """Create the key table if missing."""
        metadata.create_all(self.engine)

    def key_for(self, subject_id: str) -> tuple[str, bytes]:
        """The subject's key id and data key, made on first use (one per subject, also
        when several processes ask at once); SubjectErased once destroyed."""
        row = self._row(subject_id)
        if row is None:  # first use: made here, or by whoever races us to it
            key_id, data_key = secrets.token_urlsafe(12), new_data_key()
            insert = sqlite_insert if self.engine.dialect.name == "sqlite" else pg_insert
            with self.engine.begin() as conn:
                conn.execute(
                    insert(data_keys)
                    .values(
                        subject_id=subject_id,
                        key_id=key_id,
                        wrapped=self._wrap(key_id, subject_id, data_key),
                        created_at=datetime.now(UTC),
                    )
                    .on_conflict_do_nothing(index_elements=["subject_id"])
                )
            row = self._row(subject_id)
            assert row is not None
        if row.wrapped is None:
            raise SubjectErased(subject_id)
        return row.key_id, self._unwrap(row.key_id, subject_id, bytes(row.wrapped))

    def _row(self, subject_id: str) -> Row[Any, Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(data_keys.c.key_id, data_keys.c.wrapped).where(
                    data_keys.c.subject_id == subject_id
                )
            ).one_or_none()

    def data_key(self, key_id: str) -> bytes | None:
        """The data key with this id; None once destroyed; KeyError if never made."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(data_keys.c.subject_id, data_keys.c.wrapped).where(
                    data_keys.c.key_id == key_id
                )
            ).one_or_none()
        if row is None:
            raise KeyError(key_id)
        if row.wrapped is None:
            return None
        return self._unwrap(key_id, row.subject_id, bytes(row.wrapped))

    def destroy(self, subject_id: str, conn: Connection | None = None) -> None:
        """Destroy the subject's key (kept as a destroyed row even if they had none yet),
        on `conn` when given, so it commits with whatever else that transaction writes."""
        if conn is None:
            with self.engine.begin() as own:
                self.destroy(subject_id, own)
            return
        insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
        now = datetime.now(UTC)
        conn.execute(
            insert(data_keys)
            .values(
                subject_id=subject_id,
                key_id=secrets.token_urlsafe(12),
                wrapped=None,
                created_at=now,
                destroyed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["subject_id"])
        )
        conn.execute(
            update(data_keys)
            .where(data_keys.c.subject_id == subject_id, data_keys.c.wrapped.is_not(None))
            .values(wrapped=None, destroyed_at=now)
        )

    def _wrap(self, key_id: str, subject_id: str, data_key: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self.master_key).encrypt(nonce, data_key, _bound(key_id, subject_id))

    def _unwrap(self, key_id: str, subject_id: str, wrapped: bytes) -> bytes:
        try:
            return AESGCM(self.master_key).decrypt(
                wrapped[:12], wrapped[12:], _bound(key_id, subject_id)
            )
        except InvalidTag:
            raise WrongMasterKey(key_id) from None


def _bound(key_id: str, subject_id: str) -> bytes:
    """What a wrapped key is bound to: moved to another row, it does not unwrap."""
    return f"{key_id}|{subject_id}".encode()
