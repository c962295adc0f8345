"""`crafting verify --read-models`: the read models rebuilt into scratch tables and
compared with the live ones, so a row edited, deleted or added in SQL is named by
agreement, table and column (on both databases)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import eventsourcing.domain
import pytest
from sqlalchemy import delete, inspect, select, update
from typer.testing import CliRunner

from api.cli import cli
from domain.application import commands as c
from domain.values import ReviewOutcome
from infra import alarms, audit
from infra.bootstrap import Container
from infra.followers.read_models import current_position
from projections.tables import read_model
from tests.support import Org


def _compare(container: Container) -> audit.ReadModelReport:
    return audit.verify_read_models(
        container.engines.writer,
        container.app.recorder,
        container.app.tagging_mapper.keeping_sealed(),
        current_position,
        wait_seconds=0,
    )


def _world(container: Container) -> tuple[Org, str, str]:
    container.prepare()
    org = Org(container.app)
    first = org.active().id
    second = org.active().id
    review = c.RecordReview(agreement_id=second, outcome=ReviewOutcome.ON_TRACK, notes="fine")
    org.run(org.manager, review)
    container.projector.catch_up()
    return org, str(first), str(second)


def test_untouched_read_models_match_and_the_scratch_tables_are_dropped(
    container: Container,
) -> None:
    _world(container)
    found = _compare(container)
    assert found.differences == []
    assert found.rows > 0 and found.position == container.app.recorder.max_notification_id()
    names = inspect(container.engines.writer).get_table_names()
    assert [n for n in names if n.startswith("rm") and not n.startswith("rm1_")] == []


def test_rows_edited_deleted_or_added_in_sql_are_named(container: Container) -> None:
    _, first, second = _world(container)
    live = read_model(1)
    with container.engines.writer.begin() as conn:
        conn.execute(
            update(live.agreements)
            .where(live.agreements.c.agreement_id == first)
            .values(status="COMPLETED", development_hours=0)
        )
        conn.execute(delete(live.reviews).where(live.reviews.c.agreement_id == second))
    found = {(d.table, d.agreement_id, d.kind, d.columns) for d in _compare(container).differences}
    assert found == {
        ("agreements", first, "DIFFERS", ("status", "development_hours")),
        ("reviews", second, "MISSING", ()),
    }


def test_the_insights_directory_history_is_checked_by_person_and_version(
    container: Container,
) -> None:
    org, _, _ = _world(container)
    live = read_model(1)
    rows = live.insight_memberships
    with container.engines.writer.begin() as conn:
        conn.execute(
            update(rows).where(rows.c.person_id == org.employee_id).values(team_id="elsewhere")
        )
    found = {(d.table, d.key, d.kind, d.columns) for d in _compare(container).differences}
    assert found == {("insight_memberships", f"{org.employee_id}/1", "DIFFERS", ("team_id",))}


def _over_three_months(container: Container, monkeypatch: pytest.MonkeyPatch) -> int:
    """Agreements approved in January, February and March (the events' time set by the
    test): January and February are closed months. Returns February's last position."""
    now = [datetime(2016, 1, 10, 9, tzinfo=UTC)]
    monkeypatch.setattr(
        eventsourcing.domain.CanCreateTimestamp, "create_timestamp", staticmethod(lambda: now[0])
    )
    container.prepare()
    org = Org(container.app)
    org.active()
    now[0] = datetime(2016, 2, 10, 9, tzinfo=UTC)
    org.active()
    february = container.app.recorder.max_notification_id() or 0
    now[0] = datetime(2016, 3, 10, 9, tzinfo=UTC)
    org.active()
    container.projector.catch_up()
    return february


def test_the_insights_closed_months_are_compared(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _over_three_months(container, monkeypatch)
    assert _compare(container).differences == []
    months = read_model(1).insight_months
    with container.engines.writer.begin() as conn:
        team = conn.execute(select(months.c.team_id).where(months.c.month == "2016-01")).scalar()
        conn.execute(update(months).where(months.c.month == "2016-01").values(development=99.0))
    found = {(d.table, d.key, d.kind, d.columns) for d in _compare(container).differences}
    assert found == {("insight_months", f"2016-01/{team}", "DIFFERS", ("development",))}


def test_months_closed_after_the_compared_position_are_not_differences(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The projector moved on after the position was read: March's first event closed
    February in the live tables, not in the scratch build up to the position."""
    february = _over_three_months(container, monkeypatch)
    found = audit.verify_read_models(
        container.engines.writer,
        container.app.recorder,
        container.app.tagging_mapper.keeping_sealed(),
        lambda _: february,
        wait_seconds=0,
    )
    assert found.position == february
    assert found.differences == []


def test_events_the_projector_has_not_reached_are_not_differences(
    container: Container,
) -> None:
    org, first, _ = _world(container)
    org.run(org.manager, c.PauseAgreement(agreement_id=UUID(first), reason="busy"))
    # Not projected yet: the comparison stops where the live read models are.
    found = _compare(container)
    assert found.differences == []
    assert found.position < (container.app.recorder.max_notification_id() or 0)


def test_crafting_verify_read_models_reports_and_raises_an_alarm(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first, _ = _world(container)
    assert container.settings.keys.signing_key is not None
    monkeypatch.setenv("CRAFTING_DATABASE_URL", container.settings.database.url)
    monkeypatch.setenv(
        "CRAFTING_SIGNING_KEY", container.settings.keys.signing_key.get_secret_value()
    )
    runner = CliRunner()
    clean = runner.invoke(cli, ["verify", "--read-models"])
    assert clean.exit_code == 0, clean.output
    assert "OK: the read models match the events up to position" in clean.output
    live = read_model(1)
    with container.engines.writer.begin() as conn:
        conn.execute(
            update(live.agreements)
            .where(live.agreements.c.agreement_id == first)
            .values(status="COMPLETED")
        )
    found = runner.invoke(cli, ["verify", "--read-models"])
    assert found.exit_code == 1, found.output
    assert (
        f"READ MODEL DIFFERS: agreement {first}, table agreements (key {first}): column(s) "
        "status differ from what the events give"
    ) in found.output
    with container.engines.reader.connect() as conn:
        kept = [(a.kind, a.subject) for a in alarms.open_alarms(conn)]
    assert kept == [("read_model.differs", f"agreement {first}")]


def test_crafting_verify_read_models_checks_the_insights_kept_skill_hashes(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI gives the check the service's name index, so the insights' keyed hashes
    (insight_skills, insight_outcomes) are rebuilt and compared too."""
    _world(container)
    assert container.settings.keys.signing_key is not None
    monkeypatch.setenv("CRAFTING_DATABASE_URL", container.settings.database.url)
    monkeypatch.setenv(
        "CRAFTING_SIGNING_KEY", container.settings.keys.signing_key.get_secret_value()
    )
    runner = CliRunner()
    clean = runner.invoke(cli, ["verify", "--read-models"])
    assert clean.exit_code == 0, clean.output
    skills = read_model(1).insight_skills
    with container.engines.writer.begin() as conn:
        conn.execute(update(skills).values(skill_key="0" * 32))
    found = runner.invoke(cli, ["verify", "--read-models"])
    assert found.exit_code == 1, found.output
    assert "table insight_skills" in found.output and "skill_key differ" in found.output
