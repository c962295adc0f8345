"""Signing secrets in their own table (see tables.secrets for why not in events).

Format as Standard Webhooks: `whsec_` and the base64 of 32 random bytes; the key is
the decoded bytes. Stored wrapped (AES-256-GCM under a key derived from the master key,
bound to the subscription and generation), so a dump of the database alone cannot sign
deliveries; rows written before wrapping (plain `whsec_…`) are still read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_source
import time
from datetime import datetime
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from domain.errors import VersionConflict
from infra.webhooks.tables import secrets

PREFIX = "whsec_"
WRAPPED = "k1."


def new_secret() -> str:
    """A fresh secret, as shown to the subscriber."""
    return PREFIX + base64.b64encode(random_source.token_bytes(32)).decode()


def key_of(secret: str) -> bytes:
    """The HMAC key a secret stands for."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def wrapping_key(master_key: bytes) -> bytes:
    """The key that wraps signing secrets: the master key's, for this purpose only."""
    return hmac.new(master_key, b"crafting/webhook-secrets/v1", hashlib.sha256).digest()


def _bound(subscription_id: str, generation: int) -> bytes:
    return f"{subscription_id}|{generation}".encode()


def wrap(key: bytes, subscription_id: str, generation: int, secret: str) -> str:
    """What is stored for a secret."""
    nonce = random_source.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, key_of(secret), _bound(subscription_id, generation))
    return WRAPPED + base64.urlsafe_b64encode(nonce + sealed).decode()


def unwrap(key: bytes, subscription_id: str, generation: int, stored: str) -> bytes:
    """The HMAC key of a stored secret."""
    if not stored.startswith(WRAPPED):
        return key_of(stored)  # stored before wrapping
    raw = base64.urlsafe_b64decode(stored.removeprefix(WRAPPED))
    return AESGCM(key).decrypt(raw[:12], raw[12:], _bound(subscription_id, generation))


class SqlSecretStore:
    """Implements domain.webhooks.policy.SecretStore on the service's database."""

    def __init__(self, engine: Engine, master_key: bytes, reader: Engine | None = None) -> None:
        self.engine = engine
        self.reader = reader or engine
        self._key = wrapping_key(master_key)

    def __repr__(self) -> str:
        return "SqlSecretStore()"  # never a key

    def issue(self, subscription_id: UUID, generation: int) -> str:
        """Create, keep and return the secret of a generation."""
        secret = new_secret()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(secrets).values(
                        subscription_id=str(subscription_id),
                        generation=generation,
                        secret=wrap(self._key, str(subscription_id), generation, secret),
                        valid_until=None,
                    )
                )
        except IntegrityError:  # a concurrent rotation took this generation
            raise VersionConflict(
                "The subscription's secret is being rotated by another request; please retry.",
                "subscriptionId",
            ) from None
        return secret

    def reveal(self, subscription_id: UUID, generation: int) -> str | None:
        """The secret of a generation while it still signs, as it was shown (a replayed
        command answers what the first call answered); None once gone. From the writer:
        a replica may not have the row yet."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(secrets.c.secret).where(
                    secrets.c.subscription_id == str(subscription_id),
                    secrets.c.generation == generation,
                    or_(secrets.c.valid_until.is_(None), secrets.c.valid_until > time.time()),
                )
            ).first()
        if row is None:
            return None
        key = unwrap(self._key, str(subscription_id), generation, row.secret)
        return PREFIX + base64.b64encode(key).decode()

    def expire(self, subscription_id: UUID, before_generation: int, at: datetime) -> None:
        """Older generations stop signing at `at`; expired ones are deleted."""
        with self.engine.begin() as conn:
            conn.execute(
                update(secrets)
                .where(
                    secrets.c.subscription_id == str(subscription_id),
                    secrets.c.generation < before_generation,
                    or_(secrets.c.valid_until.is_(None), secrets.c.valid_until > at.timestamp()),
                )
                .values(valid_until=at.timestamp())
            )
            conn.execute(
                delete(secrets).where(
                    secrets.c.subscription_id == str(subscription_id),
                    secrets.c.valid_until <= time.time(),
                )
            )

    def forget(self, subscription_id: UUID, generation: int | None = None) -> None:
        """Remove one generation's secret, or all of them."""
        query = delete(secrets).where(secrets.c.subscription_id == str(subscription_id))
        if generation is not None:
            query = query.where(secrets.c.generation == generation)
        with self.engine.begin() as conn:
            conn.execute(query)

    def signing_keys(self, subscription_id: str, now: float) -> list[bytes]:
        """The keys that sign now: the current generation's, and older ones still in
        their grace period (newest first)."""
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(secrets.c.secret, secrets.c.generation)
                .where(
                    secrets.c.subscription_id == subscription_id,
                    or_(secrets.c.valid_until.is_(None), secrets.c.valid_until > now),
                )
                .order_by(secrets.c.generation.desc())
            ).all()
        return [unwrap(self._key, subscription_id, r.generation, r.secret) for r in rows]
