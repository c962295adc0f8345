"""The read replicas' settings and how their lag is judged (infra.read_routing); the
replicas themselves are exercised for real in tests/e2e/test_read_replica.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from api.cli.main import _announce
from infra.database import replica_name
from infra.read_routing import ReadRouter, WalSamples
from infra.settings import Settings

PRIMARY = "postgresql://app@db:5432/crafting"


def test_replica_urls_are_read_comma_separated_and_blank_is_none() -> None:
    urls = " postgresql://r@replica-1/crafting , postgresql://r@replica-2:5433/crafting ,"
    settings = Settings(database_url=PRIMARY, read_database_url=urls)
    assert settings.database.replica_urls == [
        "postgresql://r@replica-1/crafting",
        "postgresql://r@replica-2:5433/crafting",
    ]
    assert Settings(database_url=PRIMARY, read_database_url="  ").database.replica_urls == []
    assert Settings(database_url=PRIMARY).database.replica_urls == []


def test_replicas_need_a_postgresql_primary() -> None:
    with pytest.raises(ValidationError, match="needs CRAFTING_DATABASE_URL on PostgreSQL"):
        Settings(database_url="sqlite:///./x.db", read_database_url="postgresql://r@replica/db")


@pytest.mark.parametrize("bad", ["mysql://r:s3cret-pw@replica/db", "postgresql://:s3cret-pw@/db"])
def test_a_bad_replica_url_is_refused_without_its_password(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(database_url=PRIMARY, read_database_url=f"postgresql://r@ok/db,{bad}")
    assert "URL 2" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


def test_the_settings_never_show_a_replica_password() -> None:
    settings = Settings(database_url=PRIMARY, read_database_url="postgresql://r:s3cret-pw@h/db")
    assert "s3cret-pw" not in repr(settings)
    assert "s3cret-pw" not in str(settings.model_dump())
    assert replica_name("postgresql://r:s3cret-pw@h/db") == "h:5432/db"


def test_lag_is_the_age_of_the_oldest_wal_not_replayed() -> None:
    wal = WalSamples(keep_seconds=60)
    assert wal.lag(0.0, 0) is None  # the primary not sampled yet
    wal.add(10.0, 100)
    wal.add(11.0, 100)  # idle primary: no new sample, an idle replica is not behind
    wal.add(12.0, 200)
    wal.add(15.0, 300)
    assert wal.lag(16.0, 300) == 0.0  # replayed everything
    assert wal.lag(16.0, 250) == 1.0  # missing what the primary had at 15
    assert wal.lag(16.0, 150) == 4.0  # … and at 12
    assert wal.lag(16.0, 50) == 6.0  # older than every sample: at least that old


def test_old_samples_are_forgotten_but_the_newest_is_kept() -> None:
    wal = WalSamples(keep_seconds=5)
    wal.add(0.0, 100)
    wal.add(100.0, 100)  # the same position: only the first sample is kept …
    assert wal.lag(100.0, 100) == 0.0  # … and still says where the primary is
    wal.add(101.0, 200)
    assert wal.lag(101.0, 150) == 0.0
    assert wal.lag(102.0, 120) == 1.0  # had what the primary had at 0, not at 101
    # Behind a sample that aged out: at least as old as the samples kept.
    assert wal.lag(102.0, 50) == 5.0


def _router(tmp_path: Path, replica: Engine) -> ReadRouter:
    primary = create_engine(f"sqlite:///{tmp_path}/primary.db")
    router = ReadRouter(primary, [("replica:5432/db", replica)], max_lag_seconds=5)
    router.replicas[0].in_rotation = True  # as a check would find it
    return router


WHERE = text("SELECT :where")


def test_a_replica_whose_connections_are_all_busy_hands_the_read_to_the_primary(
    tmp_path: Path,
) -> None:
    replica = create_engine(
        f"sqlite:///{tmp_path}/replica.db", pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    router = _router(tmp_path, replica)
    with replica.connect():  # its only connection, held
        found = router.run(lambda conn: conn.execute(WHERE, {"where": "answered"}).scalar())
    assert found == "answered"
    (status,) = router.status()
    assert (status.reads, status.fallbacks, router.primary_reads) == (0, 1, 1)


def test_a_read_that_is_wrong_on_its_own_fails_and_the_replica_stays(tmp_path: Path) -> None:
    router = _router(tmp_path, create_engine(f"sqlite:///{tmp_path}/replica.db"))
    with pytest.raises(DBAPIError, match="bindings"):  # a ProgrammingError: the query's
        router.run(lambda conn: conn.exec_driver_sql("SELECT ?", ()).all())
    (status,) = router.status()
    assert status.in_rotation
    assert router.primary_reads == 0


def test_serve_says_which_replicas_it_reads_from_without_their_passwords(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(
        database_url="postgresql://app:primary-pw@db:5432/crafting",
        read_database_url="postgresql://r:replica-pw@replica-1/crafting,postgresql://r@r2:5433/crafting",
    )
    _announce("serve", settings, "run `crafting projector`")
    _announce("projector", settings, "followers here: projector")
    serve, projector = capsys.readouterr().err.splitlines()
    assert serve.endswith("reads from replicas replica-1:5432/crafting, r2:5433/crafting")
    assert "replica" not in projector
    assert "replica-pw" not in serve and "primary-pw" not in serve
