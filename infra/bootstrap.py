"""The one place that wires the service together (tests call it too)."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from domain.application import CraftingApplication
from domain.webhooks.service import WebhookSubscriptions
from infra import used_tokens
from infra.audit import Sealer, Store, ensure_tables, report_tampered_snapshot
from infra.database import Engines, check_reachable, create_engines
from infra.keystore import KeyRing, KeyStore
from infra.persistence import eventsourcing_env, position_lookup, postgres_schema
from infra.postgres_store import schema_lock
from infra.secrets import master_key
from infra.settings import Settings
from infra.signing import MissingSigningKeyError, signing_key, tag_key
from infra.webhooks import queries as webhook_queries
from infra.webhooks.guard import url_guard
from infra.webhooks.secrets import SqlSecretStore
from infra.webhooks.sender import DeliveryConfig
from infra.webhooks.worker import WebhookWorker
from infra.webhooks.worker import ensure_tables as ensure_webhook_tables
from projections.runner import ProgressCallback, ProjectionRunner

log = logging.getLogger(__name__)


@dataclass
class Container:
    settings: Settings
    app: CraftingApplication
    engines: Engines
    runner: ProjectionRunner
    store: Store
    keys: KeyRing
    subscriptions: WebhookSubscriptions
    webhooks: WebhookWorker

    def prepare(self, progress: ProgressCallback | None = None) -> None:
        """Create missing tables; rebuild the read models when their version is newer.
        Idempotent, and safe with any number of processes starting at once in any order
        (serve workers, projectors, the CLI): see `schema_lock`."""
        with self.schema_lock():
            ensure_tables(self.engines.writer)
            ensure_webhook_tables(self.engines.writer)
            used_tokens.ensure_tables(self.engines.writer)
            self.runner.ensure_ready(progress)

    def schema_lock(self) -> AbstractContextManager[None]:
        """Take turns with every other process changing this database's tables. On
        PostgreSQL an advisory lock, the same one the event store's table creation takes
        (concurrent CREATE … IF NOT EXISTS can still collide there); SQLite's write lock
        already serializes them."""
        url = self.settings.database_url
        if self.settings.is_sqlite:
            return nullcontext()
        return schema_lock(postgres_schema(url) or "public", conninfo=url.split("?", 1)[0])

    def sealer(self) -> Sealer | None:
        """The periodic checkpoint sealer, when a signing key is available."""
        try:
            key = signing_key(self.settings)
        except MissingSigningKeyError:
            return None
        return Sealer(self.store, key, self.settings.checkpoint_seconds)

    def close(self) -> None:
        self.runner.stop()
        self.webhooks.stop()
        self.app.close()
        self.engines.dispose()
        store = self.keys.store
        if store.engine is not self.engines.writer:  # a key store of its own
            store.engine.dispose()
            if store.reader is not None:
                store.reader.dispose()


def bootstrap(settings: Settings | None = None) -> Container:
    """Build the application, the read-model engines and the projection runner."""
    settings = settings or Settings()
    check_reachable(settings.database_url)
    try:
        key: Ed25519PrivateKey | None = signing_key(settings)
    except MissingSigningKeyError:
        key = None
        log.warning("no CRAFTING_SIGNING_KEY: no checkpoints are sealed, no snapshots used")
    engines = create_engines(settings.database_url, settings.pool)
    writer, reader = _keystore_engines(settings, engines)
    keys = KeyRing(KeyStore(writer, master_key(settings), reader=reader))
    app = CraftingApplication(
        env=eventsourcing_env(settings.database_url, settings.aggregate_cache_size, settings.pool),
        max_hours_received_per_week=settings.max_hours_received_per_week,
        snapshot_key=None if key is None else tag_key(key, "snapshots"),
        event_tag_key=None if key is None else tag_key(key, "events"),
        on_tampered_snapshot=report_tampered_snapshot,
        keys=keys,
        keys_beside_events=settings.keystore_url is None,
        fingerprint_key=None if key is None else tag_key(key, "fingerprints"),
    )
    if not settings.seal_personal_data:  # still opens what was sealed before
        log.warning("CRAFTING_SEAL_PERSONAL_DATA=0: new personal data is stored in clear")
        app.keys = None
    app.set_position_lookup(position_lookup(app.recorder))
    runner = ProjectionRunner(
        engines.writer,
        app.recorder,
        app.tagging_mapper.keeping_sealed(),  # read models hold personal data sealed
        postgres_dsn=None if settings.is_sqlite else settings.database_url.split("?")[0],
        reader=engines.reader,
        batch_size=settings.projector_batch_size,
    )
    app.on_saved(runner.wake)
    store = Store(app.recorder, app.mapper.transcoder, engines.writer)
    subscriptions = WebhookSubscriptions(
        app,
        SqlSecretStore(engines.writer, keys.store.master_key, reader=engines.reader),
        url_guard(settings.webhooks_allow_private),
        allow_http=settings.dev,
        rotation_grace=timedelta(seconds=settings.webhooks_secret_grace_seconds),
        held_by=partial(webhook_queries.held_by, engines.writer),
        most_subscriptions=settings.webhooks_max_subscriptions,
    )
    webhooks = WebhookWorker(
        engines.writer,
        engines.reader,
        app.recorder,
        app.mapper,
        subscriptions,
        delivery_config(settings),
        postgres_dsn=None if settings.is_sqlite else settings.database_url.split("?")[0],
        batch_size=settings.projector_batch_size,
    )
    app.on_saved(webhooks.wake)
    container = Container(
        settings=settings,
        app=app,
        engines=engines,
        runner=runner,
        store=store,
        keys=keys,
        subscriptions=subscriptions,
        webhooks=webhooks,
    )
    # Every process seals and opens from its first command or read on, prepared or not.
    with container.schema_lock():
        keys.store.ensure_tables()
    return container


def _keystore_engines(settings: Settings, engines: Engines) -> tuple[Engine, Engine]:
    """The key store's database (writer, reader): its own when configured, else the
    events'."""
    if settings.keystore_url is not None:
        check_reachable(settings.keystore_url)
        engines = create_engines(settings.keystore_url, settings.pool)
    return engines.writer, engines.reader


def delivery_config(settings: Settings) -> DeliveryConfig:
    """The delivery worker's settings."""
    return DeliveryConfig(
        timeout_seconds=settings.webhooks_timeout_seconds,
        retry_min_seconds=settings.webhooks_retry_min_seconds,
        retry_max_seconds=max(
            settings.webhooks_retry_max_seconds, settings.webhooks_retry_min_seconds
        ),
        disable_after_seconds=settings.webhooks_disable_after_seconds,
        allow_private=settings.webhooks_allow_private,
        concurrency=settings.webhooks_concurrency,
        reminder_seconds=settings.webhooks_reminder_seconds,
    )
