"""Signing secrets in their own table (see tables.secrets for why not in events).

Format as Standard Webhooks: `whsec_` and the base64 of 32 random bytes; the key is
the decoded bytes."""

from __future__ import annotations

import base64
import secrets as random_source
import time
from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from domain.errors import VersionConflict
from infra.webhooks.tables import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh secret, as shown to the subscriber."""
    return PREFIX + base64.b64encode(random_source.token_bytes(32)).decode()


def key_of(secret: str) -> bytes:
    """The HMAC key a secret stands for."""
    return base64.b64decode(secret.removeprefix(PREFIX))


class SqlSecretStore:
    """Implements domain.webhooks.service.SecretStore on the service's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(self, subscription_id: UUID, generation: int) -> str:
        """Create, keep and return the secret of a generation."""
        secret = new_secret()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(secrets).values(
                        subscription_id=str(subscription_id),
                        generation=generation,
                        secret=secret,
                        valid_until=None,
                    )
                )
        except IntegrityError:  # a concurrent rotation took this generation
            raise VersionConflict(
                "The subscription's secret is being rotated by another request; please retry.",
                "subscriptionId",
            ) from None
        return secret

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


def signing_keys(engine: Engine, subscription_id: str, now: float) -> list[bytes]:
    """The keys that sign now: the current generation's, and older ones still in
    their grace period (newest first)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(secrets.c.secret)
            .where(
                secrets.c.subscription_id == subscription_id,
                or_(secrets.c.valid_until.is_(None), secrets.c.valid_until > now),
            )
            .order_by(secrets.c.generation.desc())
        ).all()
    return [key_of(row.secret) for row in rows]
