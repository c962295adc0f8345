"""The one place that wires the service together (tests call it too)."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import Mapper
from sqlalchemy import Engine

from domain.application import CraftingApplication
from domain.application.subscriptions import WebhookSubscriptions
from domain.webhooks import WebhookSubscription
from domain.webhooks.policy import WebhookPolicy
from infra import followers, migrations
from infra.audit import Checkpointing, Store, report_tampered_snapshot
from infra.audit.store import ProgressCallback
from infra.database import (
    Engines,
    check_reachable,
    create_engines,
    create_replica_engine,
    replica_name,
)
from infra.followers import EventTrust, Follower, read_models
from infra.followers.read_models import ReadModels
from infra.followers.sealed import PlanningMapper, SharedDecoding
from infra.key_files import key_file
from infra.keystore import KeyRing, KeyStore
from infra.notifications.service import NAME as NOTIFICATIONS
from infra.notifications.service import Notifications, build_notifications
from infra.notifications.start import start_where_the_read_models_are
from infra.notifications.transport import Transport
from infra.persistence import eventsourcing_env, position_lookup, postgres_schema, stored_states
from infra.postgres_store import schema_lock
from infra.read_routing import ReadRouter
from infra.secrets import master_key
from infra.settings import Settings
from infra.signing import MissingSigningKeyError, signing_key, tag_key
from infra.webhooks import queries as webhook_queries
from infra.webhooks.delivery import Deliveries
from infra.webhooks.guard import url_guard
from infra.webhooks.planner import WebhookPlanner
from infra.webhooks.secrets import SqlSecretStore
from infra.webhooks.sender import DeliveryConfig
from projections.name_index import NameIndex, index_key

log = logging.getLogger(__name__)


@dataclass
class Container:
    settings: Settings
    app: CraftingApplication
    engines: Engines
    projector: Follower  # the read models (infra.followers.read_models)
    store: Store
    keys: KeyRing
    subscriptions: WebhookSubscriptions
    webhooks: Follower  # plans webhook messages and delivers them
    trust: EventTrust
    # The read models' queries of the front doors: replicas in rotation, else the
    # primary (infra.read_routing); checks start with `serve` (api.app).
    read_router: ReadRouter | None = None
    # The sealed events the followers of this process share (infra.followers.sealed).
    decoding: SharedDecoding | None = None
    _notifications: Notifications | None = field(default=None, init=False, repr=False)
    _prepared: bool = field(default=False, init=False, repr=False)

    def prepare(self, progress: ProgressCallback | None = None) -> None:
        """Migrate the tables that cannot be rebuilt; create the read models, or rebuild
        them when their version is newer. Idempotent, and safe with any number of
        processes starting at once in any order (serve workers, projectors, the CLI):
        see `schema_lock`."""
        with self.schema_lock():
            self._migrate()
            read_models.ensure_ready(self.projector, progress)
            if self._notifications is not None:
                self._start_notifications(self._notifications.follower)
        self._prepared = True

    def _start_notifications(self, follower: Follower) -> None:
        """Notifications start where the read models are when first deployed (with
        their routes): nobody is mailed about history."""
        start_where_the_read_models_are(self.engines.writer, NOTIFICATIONS)

    def rebuild(self, progress: ProgressCallback | None = None) -> int:
        """Rebuild the read models into fresh tables and switch to them (`crafting
        rebuild`); the number of events applied."""
        return read_models.rebuild(self.projector, progress)

    def follower(
        self,
        name: str,
        consumer: followers.Consumer | None = None,
        dispatchers: tuple[followers.Dispatcher, ...] = (),
    ) -> Follower:
        """A follower of this container's log (leadership on its database)."""
        settings = self.settings
        return Follower(
            name,
            self.engines.writer,
            self.app.recorder,
            self.app.mapper,
            self.trust,
            consumer=consumer,
            dispatchers=dispatchers,
            reader=self.engines.reader,
            postgres_dsn=_postgres_dsn(settings),
            lock_file=key_file(settings, f"{name}.lock"),
            batch_size=settings.projections.batch_size,
        )

    def migrate(self) -> list[str]:
        """Run the migrations the database lacks (`crafting migrate`); the revisions run."""
        with self.schema_lock():
            return self._migrate()

    def _migrate(self) -> list[str]:
        ran = migrations.upgrade(self.engines.writer)
        # A new database's webhook planner starts at the log's beginning (a previous
        # release's position was moved into the followers' table by a migration).
        self.webhooks.prepare()
        return ran

    def schema_lock(self) -> AbstractContextManager[None]:
        """Take turns with every other process changing this database's tables. On
        PostgreSQL an advisory lock, the same one the event store's table creation takes
        (concurrent CREATE … IF NOT EXISTS can still collide there); SQLite's write lock
        already serializes them."""
        url = self.settings.database.url
        if self.settings.database.is_sqlite:
            return nullcontext()
        return schema_lock(postgres_schema(url) or "public", conninfo=url.split("?", 1)[0])

    def checkpointer(self) -> Follower | None:
        """The follower signing checkpoints periodically, when a signing key is
        available."""
        try:
            key = signing_key(self.settings)
        except MissingSigningKeyError:
            return None
        checkpointing = Checkpointing(self.store, key, self.settings.keys.checkpoint_seconds)
        return self.follower("sealer", dispatchers=(checkpointing,))

    def notifications(self, secret: str, transport: Transport | None = None) -> Notifications:
        """E-mail notifications, a follower of the log of their own (built once);
        `secret` signs their unsubscribe links, `transport` replaces the configured one
        (tests)."""
        if self._notifications is None:
            follower = self.follower(NOTIFICATIONS)
            self._notifications = build_notifications(
                self.settings,
                follower,
                self.app.tagging_mapper,
                self.keys.store,
                self.trust,
                secret,
                transport,
                self.decoding,
            )
            if self._prepared:
                self._start_notifications(follower)
            self.app.on_saved(follower.wake)
        return self._notifications

    def close(self) -> None:
        if self.read_router is not None:
            self.read_router.dispose()
        self.projector.stop()
        self.webhooks.stop()
        if self._notifications is not None:
            self._notifications.follower.stop()
        self.app.close()
        self.engines.dispose()
        store = self.keys.store
        if store.engine is not self.engines.writer:  # a key store of its own
            store.engine.dispose()
            if store.reader is not None:
                store.reader.dispose()


def bootstrap(settings: Settings | None = None) -> Container:
    """Build the application, the read-model engines and the followers of its log."""
    settings = settings or Settings()
    check_reachable(settings.database.url)
    try:
        key: Ed25519PrivateKey | None = signing_key(settings)
    except MissingSigningKeyError:
        key = None
        log.warning("no CRAFTING_SIGNING_KEY: no checkpoints are signed, no snapshots used")
    engines = create_engines(settings.database.url, settings.database.pool)
    writer, reader = _keystore_engines(settings, engines)
    keys = KeyRing(KeyStore(writer, master_key(settings), reader=reader))
    app = CraftingApplication(
        env=eventsourcing_env(
            settings.database.url, settings.projections.aggregate_cache_size, settings.database.pool
        ),
        max_hours_received_per_week=settings.limits.max_hours_received_per_week,
        snapshot_key=None if key is None else tag_key(key, "snapshots"),
        event_tag_key=None if key is None else tag_key(key, "events"),
        on_tampered_snapshot=lambda aid, version: report_tampered_snapshot(
            aid, version, engines.writer
        ),
        keys=keys,
        keys_beside_events=settings.keys.keystore_url is None,
        fingerprint_key=None if key is None else tag_key(key, "fingerprints"),
    )
    if not settings.keys.seal_personal_data:  # still opens what was sealed before
        log.warning("CRAFTING_SEAL_PERSONAL_DATA=0: new personal data is stored in clear")
        app.keys = None
    app.set_position_lookup(position_lookup(app.recorder))
    app.set_stored_states(*stored_states(app.recorder))
    store = Store(app.recorder, app.mapper.transcoder, engines.writer)
    trust = EventTrust(store, None if key is None else tag_key(key, "events"), engines.reader)
    dsn = _postgres_dsn(settings)
    # The followers here decode events sealed, and share them (infra.followers.sealed).
    sealed = SharedDecoding(app.tagging_mapper.keeping_sealed())
    projector = Follower(
        read_models.NAME,
        engines.writer,
        app.recorder,
        cast(Mapper[Any], sealed),  # read models hold personal data sealed
        trust,
        # Names are sealed; the index of their keyed hashes opens them as it projects.
        consumer=ReadModels(NameIndex(index_key(keys.store.master_key), keys.open)),
        reader=engines.reader,
        postgres_dsn=dsn,
        lock_file=key_file(settings, f"{read_models.NAME}.lock"),
        batch_size=settings.projections.batch_size,
    )
    app.on_saved(projector.wake)
    policy = WebhookPolicy(
        SqlSecretStore(engines.writer, keys.store.master_key, reader=engines.reader),
        url_guard(settings.webhooks.allow_private),
        allow_http=settings.dev,
        rotation_grace=timedelta(seconds=settings.webhooks.secret_grace_seconds),
        held_by=partial(webhook_queries.held_by, engines.writer),
        planned=partial(webhook_queries.planned, engines.writer),
        most_subscriptions=settings.webhooks.max_subscriptions,
    )
    app.use_webhooks(policy)
    subscriptions = WebhookSubscriptions(app, policy.secrets)
    webhooks = Follower(
        "webhooks",
        engines.writer,
        app.recorder,
        # The planner reads no personal text: sealed values stay sealed (the sender
        # opens what it sends).
        cast(
            Mapper[Any],
            PlanningMapper(app.tagging_mapper, (WebhookSubscription.Event,), sealed),
        ),
        trust,
        consumer=WebhookPlanner(),
        reader=engines.reader,
        postgres_dsn=dsn,
        lock_file=key_file(settings, "webhooks.lock"),
        batch_size=settings.projections.batch_size,
    )
    webhooks.dispatchers.append(
        Deliveries(
            engines.writer,
            engines.reader,
            app.recorder,
            app.mapper,
            subscriptions,
            delivery_config(settings),
            trust,
            webhooks.stopping,
        )
    )
    app.on_saved(webhooks.wake)
    container = Container(
        settings=settings,
        app=app,
        engines=engines,
        projector=projector,
        store=store,
        keys=keys,
        subscriptions=subscriptions,
        webhooks=webhooks,
        trust=trust,
        read_router=_read_router(settings, engines),
        decoding=sealed,
    )
    # Every process seals and opens from its first command or read on, prepared or not.
    with container.schema_lock():
        keys.store.migrate()
    return container


def _read_router(settings: Settings, engines: Engines) -> ReadRouter | None:
    """The replicas of CRAFTING_READ_DATABASE_URL (None without: reads on the primary).
    Not connected yet: a replica down at start only stays out of rotation."""
    urls = settings.database.replica_urls
    if not urls:
        return None
    replicas = [
        (
            replica_name(url),
            create_replica_engine(url, settings.database.url, settings.database.pool),
        )
        for url in urls
    ]
    return ReadRouter(engines.reader, replicas, settings.database.read_max_lag_seconds)


def _postgres_dsn(settings: Settings) -> str | None:
    """The libpq URL leaders lock and listen on (None on SQLite)."""
    return None if settings.database.is_sqlite else settings.database.url.split("?")[0]


def _keystore_engines(settings: Settings, engines: Engines) -> tuple[Engine, Engine]:
    """The key store's database (writer, reader): its own when configured, else the
    events'."""
    if settings.keys.keystore_url is not None:
        check_reachable(settings.keys.keystore_url)
        engines = create_engines(settings.keys.keystore_url, settings.database.pool)
    return engines.writer, engines.reader


def delivery_config(settings: Settings) -> DeliveryConfig:
    """The webhook sender's settings."""
    return DeliveryConfig(
        timeout_seconds=settings.webhooks.timeout_seconds,
        retry_min_seconds=settings.webhooks.retry_min_seconds,
        retry_max_seconds=max(
            settings.webhooks.retry_max_seconds, settings.webhooks.retry_min_seconds
        ),
        disable_after_seconds=settings.webhooks.disable_after_seconds,
        allow_private=settings.webhooks.allow_private,
        concurrency=settings.webhooks.concurrency,
        reminder_seconds=settings.webhooks.reminder_seconds,
    )
