"""What the audit commands print reads right: ids whole in `history` at 80 columns, and
counts that agree with their nouns in `verify`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import cli
from api.graphql.ids import agreement_uuid
from tests.e2e.conftest import Api
from tests.e2e.world import World

PAUSE = """mutation($input: AgreementCommandInput!) { pauseAgreement(input: $input) {
  userErrors { message } } }"""
REASON = "Release crunch: the whole team is on the migration until the end of the quarter"


def test_history_shows_every_id_whole_at_80_columns(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = World(sqlite_api)
    aid = w.active()["id"]
    paused = sqlite_api.data(w.manager, PAUSE, input={"agreementId": aid, "reason": REASON})
    assert paused["pauseAgreement"]["userErrors"] == []
    monkeypatch.setenv("CRAFTING_DATABASE_URL", sqlite_api.container.settings.database.url)
    monkeypatch.setenv("COLUMNS", "80")
    table = CliRunner().invoke(cli, ["history", str(agreement_uuid(aid))])
    assert table.exit_code == 0, table.output
    rows = [line for line in table.output.splitlines() if "│" in line]
    cells = {cell.strip() for row in rows for cell in row.split("│")}
    assert {w.ids["emp"], w.ids["mgr"], "Proposed", "Approved", "Paused"} <= cells, table.output
    reason = "".join(row.split("│")[-2].replace(" ", "") for row in rows)
    assert reason == REASON.replace(" ", ""), table.output  # wrapped, never cut
    assert "…" not in table.output


def test_verify_counts_in_words(sqlite_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    World(sqlite_api).active()
    monkeypatch.setenv("CRAFTING_DATABASE_URL", sqlite_api.container.settings.database.url)
    runner = CliRunner()
    assert runner.invoke(cli, ["checkpoint"]).exit_code == 0
    verified = runner.invoke(cli, ["verify"])
    assert verified.exit_code == 0, verified.output
    assert "and 1 checkpoint verified." in verified.output
    assert "1 checkpoints" not in verified.output
    assert "OK: no snapshots to check yet" in verified.output
    assert "0 snapshots" not in verified.output
