"""Auditors ask `verifyIntegrity`; the command line verifies, exports and replays."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from api.cli import cli
from api.graphql.ids import agreement_uuid
from domain.integrity import checkpoint_message
from infra import audit
from infra.audit import report_tampered_snapshot
from infra.signing import new_private_key, public_key_b64, sign, signing_key
from tests.e2e.conftest import Api, serving
from tests.e2e.world import World
from tests.tampering import TAMPERS, Raw

REPORT = """query($id: ID!) { verifyIntegrity(agreementId: $id) { intact eventsChecked
  firstBreak { kind version detail } latestCheckpoint { position size root signatureValid
  publicKey } } }"""


def test_an_auditor_verifies_an_agreement(sqlite_api: Api) -> None:
    api = sqlite_api
    w = World(api)
    aid = w.active()["id"]
    audit.sign_checkpoint(api.container.store, signing_key(api.container.settings))
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
    monkeypatch.setenv("CRAFTING_DATABASE_URL", api.container.settings.database.url)
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
    signed = audit.sign_checkpoint(api.container.store, signing_key(api.container.settings))
    assert signed is not None
    attacker = Ed25519PrivateKey.generate()
    message = checkpoint_message(signed.position, signed.size, signed.root, signed.recorded_at)
    with api.container.engines.writer.begin() as conn:
        conn.execute(
            audit.checkpoints.update()
            .where(audit.checkpoints.c.position == signed.position)
            .values(signature=sign(attacker, message), public_key=public_key_b64(attacker))
        )
    query = REPORT.replace("publicKey", "publicKey publicKeyTrusted")
    checkpoint = api.data(w.auditor, query, id=aid)["verifyIntegrity"]["latestCheckpoint"]
    assert checkpoint["publicKey"] == public_key_b64(attacker)
    assert checkpoint["publicKeyTrusted"] is False
    assert checkpoint["signatureValid"] is False


STATUS = """query($id: ID!) { verifyIntegrity(agreementId: $id) { intact status eventsChecked
  eventsVerified eventsPending firstBreak { kind version detail } } }"""
ADD = """mutation($input: AddAdjustmentInput!) { addAdjustment(input: $input) {
  agreement { version } userErrors { code } } }"""


@contextmanager
def _signing_service(prepared_database_url: str) -> Iterator[Api]:
    """The service with a signing key on either database (events tagged, sealing on)."""
    with serving(prepared_database_url, signing_key=new_private_key()) as served:
        yield served


def _three_versions(api: Api, w: World) -> str:
    """An active agreement with an adjustment added: versions 1 to 3."""
    aid = w.active()["id"]
    adjustment = {"kind": "RELATIONAL", "description": "Shadow a PM", "hoursPerWeek": 1}
    added = api.data(w.manager, ADD, input={"agreementId": aid, "adjustment": adjustment})[
        "addAdjustment"
    ]
    assert added["userErrors"] == [] and added["agreement"]["version"] == 3
    return str(aid)


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_verify_integrity_is_never_intact_for_forged_history(
    prepared_database_url: str, kind: str
) -> None:
    with _signing_service(prepared_database_url) as api:
        w = World(api)
        aid = _three_versions(api, w)
        assert (
            audit.sign_checkpoint(api.container.store, signing_key(api.container.settings))
            is not None
        )
        before = api.data(w.auditor, STATUS, id=aid)["verifyIntegrity"]
        assert (before["intact"], before["status"], before["eventsVerified"]) == (
            True,
            "VERIFIED",
            3,
        )
        tamper, first = TAMPERS[kind]
        tamper(Raw(api.container), agreement_uuid(aid))
        report = api.data(w.auditor, STATUS, id=aid)["verifyIntegrity"]
        assert report["intact"] is False, report
        assert report["status"] == "BROKEN"
        assert report["firstBreak"]["version"] == first(3), report


def test_events_newer_than_the_last_checkpoint_are_not_yet_verified(
    prepared_database_url: str,
) -> None:
    with _signing_service(prepared_database_url) as api:
        w = World(api)
        aid = w.active()["id"]
        assert (
            audit.sign_checkpoint(api.container.store, signing_key(api.container.settings))
            is not None
        )
        adjustment = {"kind": "TASK", "description": "Write one brief", "hoursPerWeek": 1}
        api.data(w.manager, ADD, input={"agreementId": aid, "adjustment": adjustment})
        report = api.data(w.auditor, STATUS, id=aid)["verifyIntegrity"]
        assert report == {
            "intact": False,
            "status": "NOT_YET_VERIFIED",
            "eventsChecked": 3,
            "eventsVerified": 2,
            "eventsPending": 1,
            "firstBreak": None,
        }


def test_verify_integrity_lists_the_open_alarms_about_the_agreement(
    prepared_database_url: str,
) -> None:
    with _signing_service(prepared_database_url) as api:
        w = World(api)
        aid, other = w.active()["id"], w.active()["id"]
        stream = agreement_uuid(aid)
        # Raised by another process meeting a snapshot that failed its tag.
        report_tampered_snapshot(stream, 2, api.container.engines.writer)
        query = """query($id: ID!) { verifyIntegrity(agreementId: $id) {
          openAlarms { kind subject detail raisedAt } } }"""
        alarms = api.data(w.auditor, query, id=aid)["verifyIntegrity"]["openAlarms"]
        assert [(a["kind"], a["subject"]) for a in alarms] == [
            ("integrity.snapshot", f"agreement {stream} version 2")
        ]
        assert alarms[0]["raisedAt"].endswith("+00:00")
        assert api.data(w.auditor, query, id=other)["verifyIntegrity"]["openAlarms"] == []
