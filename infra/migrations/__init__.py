"""Migrations (Alembic) of the tables that cannot be rebuilt from the log: the webhook
outbox and secrets, the followers' positions, status and quarantine, the alarms, the
e-mail notifications' outbox and preferences, the signed checkpoints and the used
sign-in tokens (chain `service`), and the data keys (chain `keys`: they may live in a
database of their own). Read models are not migrated: a new read-model version is
rebuilt from the log.

`serve`, the projector and the CLI run `upgrade` under the schema lock as they start;
`crafting migrate` runs it alone. How to add a migration: docs/migrations.md."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import RevisionStep
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

log = logging.getLogger(__name__)
# Alembic tells at INFO its dialect and each step, in every process that starts; the one
# line `upgrade` logs says what ran.
logging.getLogger("alembic").setLevel(logging.WARNING)
FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class Chain:
    """One line of migrations: its scripts (`folder/versions`) and the table that
    records which of them a database has had."""

    name: str
    folder: Path
    version_table: str

    def scripts(self) -> ScriptDirectory:
        """The chain's migration scripts."""
        return ScriptDirectory(self.folder)

    def head(self) -> str:
        """The newest revision: what `upgrade` brings a database to."""
        heads = self.scripts().get_heads()
        if len(heads) != 1:  # two files name the same predecessor
            raise RuntimeError(f"the {self.name} migrations have {len(heads)} heads: {heads}")
        return heads[0]


SERVICE = Chain("service", FOLDER / "service", "crafting_schema_version")
KEYS = Chain("keys", FOLDER / "keys", "crafting_keys_schema_version")


def current(engine: Engine, chain: Chain = SERVICE) -> str | None:
    """The revision the database is at; None before its first migration."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": chain.version_table})
        return context.get_current_revision()


def upgrade(engine: Engine, chain: Chain = SERVICE, target: str = "head") -> list[str]:
    """Run the migrations the database lacks, up to `target`, in one transaction; the
    revisions run, oldest first (none when it is up to date). Callers hold the schema
    lock (infra.bootstrap): on SQLite the writer's BEGIN IMMEDIATE serializes them too."""
    scripts = chain.scripts()
    ran: list[str] = []

    def steps(revision: object, _: MigrationContext) -> list[RevisionStep]:
        planned = scripts._upgrade_revs(target, revision)  # type: ignore[arg-type]
        ran.extend(step.revision.revision for step in planned)
        return planned

    config = Config()
    config.set_main_option("script_location", str(chain.folder))
    with engine.begin() as conn:
        environment = EnvironmentContext(config, scripts, fn=steps, destination_rev=target)
        with environment:
            environment.configure(connection=conn, version_table=chain.version_table)
            with environment.begin_transaction():
                environment.run_migrations()
    if ran:
        log.info("migrated the %s tables: %s", chain.name, " → ".join(ran))
    return ran
