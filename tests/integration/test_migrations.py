"""The tables that cannot be rebuilt (webhooks, notifications, the followers' positions,
status and quarantine, alarms, checkpoints, used tokens, data keys) are migrated in place, on SQLite and PostgreSQL: from nothing to the code's tables, and from
the previous release's tables with their rows kept."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, insert, select, text, update

from domain.application import commands as c
from domain.values import Role
from infra import migrations
from infra.alarms import metadata as alarms_metadata
from infra.audit.merkle_index import metadata as merkle_metadata
from infra.audit.store import metadata as audit_metadata
from infra.bootstrap import Container, bootstrap
from infra.database import create_engines
from infra.followers.tables import metadata as followers_metadata
from infra.followers.tables import positions
from infra.keystore import metadata as keys_metadata
from infra.notifications.tables import notify_metadata
from infra.settings import Settings
from infra.used_tokens import metadata as used_tokens_metadata
from infra.webhooks.planner import NAME as WEBHOOK_PLANNER
from infra.webhooks.tables import webhook_metadata
from tests.integration import previous_release
from tests.processes import crafting_command, service_env
from tests.support import request

SERVICE_TABLES = [
    webhook_metadata,
    audit_metadata,
    used_tokens_metadata,
    followers_metadata,
    alarms_metadata,
    notify_metadata,
    merkle_metadata,
]
# The previous release's tables that a migration replaced: their rows live elsewhere now.
REPLACED = {"crafting_webhook_state"}
FAR = 2**40  # a log position past 32 bits


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engines = create_engines(database_url)
    yield engines.writer
    engines.dispose()


def _differences(engine: Engine, metadata: MetaData) -> list[Any]:
    """What tells the database's tables apart from the code's (only the code's tables)."""

    def ours(name: str | None, kind: str, _: Any) -> bool:
        return kind != "table" or name in metadata.tables

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": ours}
        )
        return list(compare_metadata(context, metadata))


def _rows(engine: Engine, metadata: MetaData) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {
            name: [
                dict(r._mapping) for r in conn.execute(select(table).order_by(*table.primary_key))
            ]
            for name, table in metadata.tables.items()
        }


def test_each_chain_has_one_head() -> None:
    assert migrations.SERVICE.head()
    assert migrations.KEYS.head()


def test_an_empty_database_is_brought_to_the_code_s_tables(engine: Engine) -> None:
    assert migrations.current(engine) is None
    assert migrations.upgrade(engine)[0] == "s0001"
    assert migrations.upgrade(engine, migrations.KEYS) == ["k0001"]
    assert migrations.current(engine) == migrations.SERVICE.head()
    assert migrations.current(engine, migrations.KEYS) == migrations.KEYS.head()
    for metadata in [*SERVICE_TABLES, keys_metadata]:
        assert _differences(engine, metadata) == [], "a table changed without its migration"
    assert migrations.upgrade(engine) == []  # up to date: nothing runs twice
    assert migrations.upgrade(engine, migrations.KEYS) == []


def test_the_previous_release_s_tables_keep_their_rows(engine: Engine) -> None:
    previous_release.tables.create_all(engine)
    previous_release.keys.create_all(engine)
    with engine.begin() as conn:
        for metadata in (previous_release.tables, previous_release.keys):
            for name, table in metadata.tables.items():
                conn.execute(insert(table), previous_release.ROWS[name])
    before = {
        **_rows(engine, previous_release.tables),
        **_rows(engine, previous_release.keys),
    }
    planner = previous_release.ROWS["crafting_webhook_state"][0]

    migrations.upgrade(engine)
    migrations.upgrade(engine, migrations.KEYS)

    current = MetaData()
    for metadata in [*SERVICE_TABLES, keys_metadata]:
        for table in metadata.tables.values():
            table.to_metadata(current)
    kept = {name: rows for name, rows in before.items() if name not in REPLACED}
    after = _rows(engine, current)
    # Each row as it was, in the columns it had (columns added since hold their own).
    assert {
        name: [{k: v for k, v in row.items() if k in rows[0]} for row in after[name]]
        for name, rows in kept.items()
    } == kept
    # Its events are not in this database: the subscription starts at its creation's.
    assert [row["version"] for row in after["crafting_webhook_subscriptions"]] == [1]
    # The webhook planner goes on from where the previous release stopped, as a follower.
    assert planner["name"] == WEBHOOK_PLANNER
    with engine.connect() as conn:
        moved = conn.execute(select(positions.c.name, positions.c.position)).all()
    assert [tuple(row) for row in moved] == [(WEBHOOK_PLANNER, planner["position"])]
    with engine.connect() as conn:
        assert not engine.dialect.has_table(conn, "crafting_webhook_state")
    for metadata in [*SERVICE_TABLES, keys_metadata]:
        assert _differences(engine, metadata) == []
    # Positions past 32 bits now fit (PostgreSQL refused them in an INTEGER column).
    for table in (positions, current.tables["crafting_webhook_outbox"]):
        with engine.begin() as conn:
            conn.execute(update(table).values(position=FAR))
            assert conn.execute(select(table.c.position)).scalar_one() == FAR


def test_the_webhook_follower_goes_on_from_the_previous_release_s_planner(
    container: Container,
) -> None:
    engine = container.engines.writer
    planner = previous_release.tables.tables["crafting_webhook_state"]
    planner.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(planner), previous_release.ROWS["crafting_webhook_state"])

    container.prepare()  # migrates, then gives each follower its position unless it has one

    assert (
        container.webhooks.position()
        == previous_release.ROWS["crafting_webhook_state"][0]["position"]
    )


def test_processes_migrating_at_once_migrate_once(database_url: str, tmp_path: Path) -> None:
    env = service_env(database_url)
    racers = [
        subprocess.Popen(
            [*crafting_command(), "migrate"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [racer.communicate(timeout=120)[0].decode() for racer in racers]
    assert [racer.returncode for racer in racers] == [0] * 4, outputs
    assert sum("migrated s0001" in output for output in outputs) == 1, outputs
    assert all(f"revision {migrations.SERVICE.head()}" in output for output in outputs)
    engines = create_engines(database_url)
    try:
        with engines.writer.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM crafting_schema_version"))
            assert [row[0] for row in versions] == [migrations.SERVICE.head()]
    finally:
        engines.dispose()


def test_subscriptions_planned_before_their_version_was_kept_take_it_from_the_log(
    database_url: str,
) -> None:
    # s0006: a subscription planned by a release without the column gets its stream's
    # version from the events, so webhookSubscriptions shows the version its status
    # goes with (what expectedVersion compares with), not a made-up one.
    container = bootstrap(
        Settings(database_url=database_url, jwt_secret=None, webhooks_allow_private=True)
    )
    try:
        container.prepare()
        owner = request("integration-1", Role.INTEGRATION)
        url = "https://127.0.0.1:9/hooks"
        created = container.app.execute(
            owner, c.CreateWebhookSubscription(url=url, event_types=["*"])
        )
        assert created.subscription is not None
        sid = created.subscription.id
        for command in (c.PauseWebhookSubscription, c.ResumeWebhookSubscription):
            container.app.execute(owner, command(subscription_id=sid))
        container.webhooks.catch_up()
        engine = container.engines.writer
        table = webhook_metadata.tables["crafting_webhook_subscriptions"]
        with engine.connect() as conn:
            planned = conn.execute(select(table.c.version)).scalar_one()
        assert planned == 3  # created, paused, resumed: the planner keeps it

        # As the previous release left it: no column, the schema one revision back.
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE crafting_webhook_subscriptions DROP COLUMN version"))
            conn.execute(text("UPDATE crafting_schema_version SET version_num = 's0005'"))
        assert migrations.upgrade(engine)[0] == "s0006"

        with engine.connect() as conn:
            assert conn.execute(select(table.c.version)).scalar_one() == 3
        assert _differences(engine, webhook_metadata) == []
    finally:
        container.close()


def test_the_webhook_planners_people_are_indexed_by_person(database_url: str) -> None:
    # s0007: a batch reads its people's teams by person id, not the whole table.
    container = bootstrap(Settings(database_url=database_url, jwt_secret=None))
    try:
        container.prepare()
        engine = container.engines.writer
        with engine.begin() as conn:  # as the previous release left it
            conn.execute(text("DROP INDEX ix_webhook_people_person"))
            conn.execute(text("UPDATE crafting_schema_version SET version_num = 's0006'"))
        assert _differences(engine, webhook_metadata) != []
        assert migrations.upgrade(engine) == ["s0007"]
        assert _differences(engine, webhook_metadata) == []
    finally:
        container.close()
