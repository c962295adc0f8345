"""Auditors ask `verifyIntegrity`; the command line verifies, exports and replays."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from api.cli import cli
from domain.integrity import checkpoint_message
from infra import audit
from infra.signing import public_key_b64, sign, signing_key
from tests.e2e.conftest import Api
from tests.e2e.world import World

REPORT = """query($id: ID!) { verifyIntegrity(agreementId: $id) { intact eventsChecked
  firstBreak { kind version detail } latestCheckpoint { position size root signatureValid
  publicKey } } }"""


def test_an_auditor_verifies_an_agreement(sqlite_api: Api) -> None:
    api = sqlite_api
    w = World(api)
    aid = w.active()["id"]
    audit.seal(api.container.store, signing_key(api.container.settings))
    report = api.data(w.auditor, REPORT, id=aid)["verifyIntegrity"]
    assert report["intact"] is True
    assert report["eventsChecked"] == 2
    assert report["firstBreak"] is None
    assert report["latestCheckpoint"]["signatureValid"] is True
    assert report["latestCheckpoint"]["position"] == api.position()
    for token in (w.employee, w.manager):
        body = api.gql(token, REPORT, id=aid)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_the_command_line_verifies_exports_and_replays(
    sqlite_api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = sqlite_api
    w = World(api)
    agreement = w.active()
    monkeypatch.setenv("CRAFTING_DATABASE_URL", api.container.settings.database_url)
    runner = CliRunner()
    assert "Checkpoint at position" in runner.invoke(cli, ["checkpoint"]).output
    verified = runner.invoke(cli, ["verify"])
    assert verified.exit_code == 0, verified.output
    assert "OK:" in verified.output
    out = tmp_path / "all.jsonl"
    assert runner.invoke(cli, ["export", "-o", str(out)]).exit_code == 0
    assert (
        sum(1 for line in out.read_text().splitlines() if json.loads(line)["kind"] == "event")
        == api.position()
    )
    uuid = agreement["id"]
    from api.graphql.ids import agreement_uuid

    replay = runner.invoke(cli, ["history", str(agreement_uuid(uuid)), "--version", "1", "--json"])
    assert replay.exit_code == 0, replay.output
    body = json.loads(replay.output)
    assert [t["type"] for t in body["timeline"]] == ["Proposed", "Approved"]
    assert body["state"]["status"] == "PROPOSED"
    assert runner.invoke(cli, ["history", "not-a-uuid"]).exit_code == 2
    # The id GraphQL hands out works as it is, and at 80 columns the time is whole.
    monkeypatch.setenv("COLUMNS", "80")
    table = runner.invoke(cli, ["history", uuid, "--version", "1"])
    assert table.exit_code == 0, table.output
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", table.output), table.output


def test_a_checkpoint_re_signed_with_another_key_is_not_reported_valid(sqlite_api: Api) -> None:
    api = sqlite_api
    w = World(api)
    aid = w.active()["id"]
    sealed = audit.seal(api.container.store, signing_key(api.container.settings))
    assert sealed is not None
    attacker = Ed25519PrivateKey.generate()
    message = checkpoint_message(sealed.position, sealed.size, sealed.root, sealed.recorded_at)
    with api.container.engines.writer.begin() as conn:
        conn.execute(
            audit.checkpoints.update()
            .where(audit.checkpoints.c.position == sealed.position)
            .values(signature=sign(attacker, message), public_key=public_key_b64(attacker))
        )
    query = REPORT.replace("publicKey", "publicKey publicKeyTrusted")
    checkpoint = api.data(w.auditor, query, id=aid)["verifyIntegrity"]["latestCheckpoint"]
    assert checkpoint["publicKey"] == public_key_b64(attacker)
    assert checkpoint["publicKeyTrusted"] is False
    assert checkpoint["signatureValid"] is False
