"""Tamper evidence on both databases: every kind of direct change to the stored events is
caught and named; an untouched store verifies; exports verify without the service."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from typer.testing import CliRunner

from api.cli import cli
from domain.application import commands as c
from domain.event_tags import event_tag
from domain.integrity import GENESIS, TAG_FIELD, event_hash, hashed_fields
from infra import alarms, audit, migrations
from infra.audit import merkle_index
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from infra.signing import (
    events_key,
    public_key_b64,
    signing_key,
    tag_key,
    trusted_public_keys,
)
from tests.support import Org, draft
from tests.tampering import TAMPERS, Raw

ROOT = Path(__file__).parents[2]


def _history(container: Container) -> tuple[Org, UUID, Ed25519PrivateKey]:
    migrations.upgrade(container.engines.writer)
    org = Org(container.app)
    agreement = org.active()  # versions 1, 2
    for hours in (1, 0.5, 0.25):  # versions 3, 4, 5
        org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(hours)))
    key = signing_key(container.settings)  # the key the service's events are tagged with
    assert audit.sign_checkpoint(container.store, key) is not None
    return org, agreement.id, key


def _verify(container: Container, key: Ed25519PrivateKey) -> Any:
    return audit.verify_store(container.store, public_key_b64(key)).first_break


def test_an_untouched_store_verifies(container: Container) -> None:
    org, aid, key = _history(container)
    org.run(org.manager, c.PauseAgreement(agreement_id=aid, reason="x"))
    assert audit.sign_checkpoint(container.store, key) is not None  # extends the last frontier
    assert audit.sign_checkpoint(container.store, key) is None  # nothing new
    result = audit.verify_store(container.store, public_key_b64(key))
    assert result.first_break is None
    assert result.checkpoints == 2
    assert result.events == container.app.recorder.max_notification_id()
    assert audit.verify_stream(container.store, aid).first_break is None


def _edit_payload(raw: Raw, aid: UUID) -> None:
    state = raw.state(aid, 2)
    assert b'"review_every_days":14' in state
    raw.set_state(aid, 2, state.replace(b'"review_every_days":14', b'"review_every_days":15'))


def _edit_metadata(raw: Raw, aid: UUID) -> None:
    state = json.loads(raw.state(aid, 3))
    state["actor_id"] = "someone-else"
    raw.set_state(aid, 3, json.dumps(state, separators=(",", ":")).encode())


def _delete(raw: Raw, aid: UUID) -> None:
    raw.run("DELETE FROM {t} WHERE originator_id = ? AND originator_version = 3", raw.key(aid))


def _insert(raw: Raw, aid: UUID) -> None:
    forged = json.loads(raw.state(aid, 5))
    forged["previous_hash"] = GENESIS
    raw.insert(aid, 6, raw.topic(aid, 5), forged)


def _swap(raw: Raw, aid: UUID) -> None:
    second, third = raw.state(aid, 2), raw.state(aid, 3)
    raw.set_state(aid, 2, third)
    raw.set_state(aid, 3, second)


def _edit_last(raw: Raw, aid: UUID) -> None:
    state = raw.state(aid, 5)
    raw.set_state(aid, 5, state.replace(b'"hours_per_week":0.25', b'"hours_per_week":0.5'))


@pytest.mark.parametrize(
    ("tamper", "kind", "version"),
    [
        (_edit_payload, "CHAIN_BROKEN", 3),
        (_edit_metadata, "CHAIN_BROKEN", 4),
        (_delete, "VERSION_GAP", 4),
        (_insert, "CHAIN_BROKEN", 6),
        (_swap, "CHAIN_BROKEN", 2),
        (_edit_last, "ROOT_MISMATCH", None),
    ],
)
def test_direct_tampering_is_caught_and_named(
    container: Container, tamper: Callable[[Raw, UUID], None], kind: str, version: int | None
) -> None:
    _, aid, key = _history(container)
    tamper(Raw(container), aid)
    found = _verify(container, key)
    assert found is not None, "tampering went unnoticed"
    assert found.kind == kind, found
    assert found.version == version
    if version is not None:
        assert found.stream == str(aid)
        assert found.position is not None


def test_a_checkpoint_signed_with_another_key_is_caught(container: Container) -> None:
    _, _, key = _history(container)
    assert _verify(container, Ed25519PrivateKey.generate()).kind == "BAD_SIGNATURE"
    assert _verify(container, key) is None


def _standalone(path: Path, key: Ed25519PrivateKey | str) -> subprocess.CompletedProcess[str]:
    # Run the verifier as an auditor would: the file on its own, outside the package.
    public = key if isinstance(key, str) else public_key_b64(key)
    return subprocess.run(
        [sys.executable, str(ROOT / "domain" / "integrity.py"), str(path), "--public-key", public],
        capture_output=True,
        text=True,
        check=False,
        cwd=path.parent,
    )


def test_an_export_verifies_independently_and_one_changed_byte_fails(
    container: Container, tmp_path: Path
) -> None:
    _, _aid, key = _history(container)
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        written = audit.export(container.store, out)
    assert written == container.app.recorder.max_notification_id()
    ok = _standalone(path, key)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK:" in ok.stdout
    text = path.read_text()
    assert text.count('"hours_per_week": 0.25') == 1
    path.write_text(text.replace('"hours_per_week": 0.25', '"hours_per_week": 0.35'))
    broken = _standalone(path, key)
    assert broken.returncode == 1
    assert "BROKEN" in broken.stdout


def test_the_standalone_verifier_says_plainly_what_is_wrong(
    container: Container, tmp_path: Path
) -> None:
    _, aid, key = _history(container)
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        audit.export(container.store, out)
    not_a_key = _standalone(path, "definitely-not-a-key")
    assert not_a_key.returncode == 2
    assert "not a base64 Ed25519 public key" in not_a_key.stdout
    assert "BAD_SIGNATURE" not in not_a_key.stdout
    text = path.read_text()
    edited = text.replace('"hours_per_week": 0.5', '"hours_per_week": 0.75')  # version 4
    path.write_text(edited)
    found = _standalone(path, key).stdout
    assert f"stream {aid}, version 5" in found
    assert "the link from version 4 to version 5 is broken" in found
    last = text.replace('"hours_per_week": 0.25', '"hours_per_week": 0.5')  # version 5, last
    path.write_text(last)
    root = _standalone(path, key).stdout
    assert "ROOT_MISMATCH" in root and "at the checkpoint at position" in root
    assert "None" not in root


def test_a_partial_export_checks_its_chains(container: Container, tmp_path: Path) -> None:
    _, aid, key = _history(container)
    path = tmp_path / "one.jsonl"
    with path.open("w", encoding="utf-8") as out:
        assert audit.export(container.store, out, stream=aid) == 5
    result = _standalone(path, key)
    assert result.returncode == 0, result.stdout
    assert "partial" in result.stdout


def _append_forged(raw: Raw, container: Container, aid: UUID) -> None:
    """An event appended in SQL after the last checkpoint, its chain hash recomputed
    correctly (the chain is unkeyed), its tag copied from a real event."""
    forged = json.loads(raw.state(aid, 5))
    forged["previous_hash"] = raw.hash_of(aid, 5)
    forged["actor_id"] = "FORGED: promotion approved by VP"
    raw.insert(aid, 6, raw.topic(aid, 5), forged)


def test_an_event_appended_around_the_service_is_never_checkpointed(container: Container) -> None:
    _, aid, key = _history(container)
    raw = Raw(container)
    _append_forged(raw, container, aid)
    # The chain itself holds: only the tag tells the forgery apart.
    assert audit.verify_stream(container.store, aid).first_break is None
    alarms = audit.INTEGRITY_ALARMS.labels("event")._value.get()
    assert audit.sign_checkpoint(container.store, key) is None
    assert audit.INTEGRITY_ALARMS.labels("event")._value.get() == alarms + 1
    assert audit.verify_store(container.store, public_key_b64(key)).first_break is None
    found = audit.verify_store(
        container.store, public_key_b64(key), events_key=tag_key(key, "events")
    ).first_break
    assert (found.kind, found.stream, found.version) == ("NOT_WRITTEN_BY_SERVICE", str(aid), 6)


def test_a_broken_tag_blocks_sealing_until_the_event_is_restored(
    container: Container,
) -> None:
    org, aid, key = _history(container)
    org.run(org.manager, c.PauseAgreement(agreement_id=aid, reason="x"))  # version 6, real
    raw = Raw(container)
    real_head = container.app.recorder.max_notification_id()
    raw.run(
        "UPDATE {t} SET state = ? WHERE originator_id = ? AND originator_version = 6",
        raw.state(aid, 6).replace(b'"_tag":"', b'"_tag":"0'),
        raw.key(aid),
    )
    assert audit.sign_checkpoint(container.store, key) is None  # the only new event is not ours now
    raw.run(  # restore it: sealing goes on
        "UPDATE {t} SET state = ? WHERE originator_id = ? AND originator_version = 6",
        raw.state(aid, 6).replace(b'"_tag":"0', b'"_tag":"'),
        raw.key(aid),
    )
    signed = audit.sign_checkpoint(container.store, key)
    assert signed is not None and signed.position == real_head


def test_a_published_checkpoint_reveals_a_removed_tail_or_checkpoint(
    container: Container, tmp_path: Path
) -> None:
    org, aid, key = _history(container)
    org.run(org.manager, c.PauseAgreement(agreement_id=aid, reason="x"))
    signed = audit.sign_checkpoint(container.store, key)
    assert signed is not None
    anchors = [signed]
    public = public_key_b64(key)
    assert audit.verify_store(container.store, public, anchors=anchors).first_break is None
    raw = Raw(container)
    # Remove the tail and the checkpoint that covered it: consistent inside the store.
    raw.run("DELETE FROM {t} WHERE originator_id = ? AND originator_version = 6", raw.key(aid))
    with container.engines.writer.begin() as conn:
        conn.execute(
            audit.checkpoints.delete().where(audit.checkpoints.c.position == signed.position)
        )
    assert audit.verify_store(container.store, public).first_break is None  # unseen inside
    found = audit.verify_store(container.store, public, anchors=anchors).first_break
    assert found is not None and found.kind == "ANCHOR_MISSING"
    assert found.position == signed.position


@pytest.mark.postgres
def test_an_auditor_verifies_with_the_public_key_alone(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    service = bootstrap(
        Settings(database_url=postgres_url, signing_key=base64.b64encode(raw).decode())
    )
    try:
        _history(service)
    finally:
        service.close()
    monkeypatch.setenv("CRAFTING_DATABASE_URL", postgres_url)
    monkeypatch.delenv("CRAFTING_SIGNING_KEY", raising=False)
    runner = CliRunner()
    verified = runner.invoke(cli, ["verify", "--public-key", public_key_b64(key)])
    assert verified.exit_code == 0, verified.output
    assert "OK:" in verified.output
    without = runner.invoke(cli, ["verify"])
    assert without.exit_code == 2
    assert "--public-key" in without.output


def test_after_an_erasure_exports_read_erased_verify_and_still_catch_tampering(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, aid, key = _history(container)
    app = container.app
    app.keys = None  # one event recorded as before sealing existed (stays in clear)
    org.run(org.manager, c.PauseAgreement(agreement_id=aid, reason="Legacy pause"))
    app.keys = container.keys
    assert container.settings.keys.signing_key is not None
    monkeypatch.setenv("CRAFTING_DATABASE_URL", container.settings.database.url)
    monkeypatch.setenv(
        "CRAFTING_SIGNING_KEY", container.settings.keys.signing_key.get_secret_value()
    )
    container.prepare()
    container.projector.catch_up()  # `crafting erase` finds the agreements in the read models
    runner = CliRunner()
    erased = runner.invoke(cli, ["erase", org.employee_id, "--reason", "Art. 17 request"])
    assert erased.exit_code == 0, erased.output
    assert f"Erased {org.employee_id}" in erased.output
    assert "1 of their events were recorded before personal data was sealed" in erased.output
    again = runner.invoke(cli, ["erase", org.employee_id, "--reason", "twice"])
    assert again.exit_code == 1 and "INVALID_TRANSITION" in again.output

    assert audit.sign_checkpoint(container.store, key) is not None
    assert _verify(container, key) is None  # the history still verifies
    history = runner.invoke(cli, ["history", str(aid), "--json"])
    assert history.exit_code == 0, history.output
    shown = json.loads(history.output)
    assert shown["state"]["title"] == "[erased]"
    assert "Tester to product manager" not in history.output

    path = tmp_path / "export.jsonl"
    exported = runner.invoke(cli, ["export", "--output", str(path)])
    assert exported.exit_code == 0, exported.output
    ok = _standalone(path, key)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["format"] == 2
    opened = {
        o["text"]
        for line in lines
        if line["kind"] == "event"
        for o in line.get("opened", {}).values()
    }
    assert org.manager_id.title() in opened  # readable where the key exists
    assert "Tester to product manager" not in path.read_text()  # not for the erased
    # An opened text that is not what its envelope holds is caught.
    text = path.read_text()
    manager = org.manager_id.title()
    path.write_text(text.replace(f'"text": "{manager}"', '"text": "Someone else"', 1))
    mismatch = _standalone(path, key)
    assert mismatch.returncode == 1 and "OPENING_MISMATCH" in mismatch.stdout
    # Tampering with a stored event is still caught after the erasure.
    raw = Raw(container)
    state = raw.state(aid, 3)
    raw.set_state(aid, 3, state.replace(b'"hours_per_week":1.0', b'"hours_per_week":2.0'))
    assert state != raw.state(aid, 3)
    found = _verify(container, key)
    assert found is not None and found.kind == "CHAIN_BROKEN"


def _check(container: Container, aid: UUID) -> audit.AgreementIntegrity:
    """What `verifyIntegrity` and the web badge show for one agreement."""
    settings = container.settings
    return audit.check_agreement(
        container.store, aid, trusted_public_keys(settings), events_key(settings)
    )


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_the_agreement_check_catches_what_crafting_verify_catches(
    container: Container, kind: str
) -> None:
    org, aid, key = _history(container)
    bystander = org.active().id  # sealed too, and untouched
    assert audit.sign_checkpoint(container.store, key) is not None
    assert _check(container, aid).status is audit.Status.VERIFIED
    raw = Raw(container)
    tamper, first = TAMPERS[kind]
    last = raw.last_version(aid)
    tamper(raw, aid)
    found = _check(container, aid)
    assert found.status is audit.Status.BROKEN, found
    assert found.first_break is not None and found.first_break.version == first(last), found
    whole = audit.verify_store(
        container.store, public_key_b64(key), events_key=tag_key(key, "events")
    )
    assert whole.first_break is not None  # `crafting verify` agrees
    # Another agreement's proof does not depend on the tampered one's events.
    assert _check(container, bystander).status is audit.Status.VERIFIED


def test_events_after_the_last_checkpoint_are_not_yet_verified_until_checkpointed(
    container: Container,
) -> None:
    org, aid, key = _history(container)
    checked = _check(container, aid)
    assert (checked.status, checked.verified, checked.pending) == (audit.Status.VERIFIED, 5, 0)
    org.run(org.manager, c.PauseAgreement(agreement_id=aid, reason="x"))
    pending = _check(container, aid)
    assert pending.status is audit.Status.NOT_YET_VERIFIED
    assert (pending.verified, pending.pending, pending.first_break) == (5, 1, None)
    assert audit.sign_checkpoint(container.store, key) is not None
    assert _check(container, aid).status is audit.Status.VERIFIED


def test_without_any_checkpoint_nothing_is_verified(container: Container) -> None:
    migrations.upgrade(container.engines.writer)
    org = Org(container.app)
    aid = org.active().id
    found = _check(container, aid)
    assert found.status is audit.Status.NOT_YET_VERIFIED
    assert (found.verified, found.pending, found.checkpoint) == (0, 2, None)


def test_a_store_checkpointed_before_the_index_existed_is_indexed_at_the_next_checkpoint(
    container: Container,
) -> None:
    org, aid, key = _history(container)
    with container.engines.writer.begin() as conn:
        merkle_index.clear(conn)  # as a store checkpointed by an earlier release
    assert _check(container, aid).status is audit.Status.NOT_YET_VERIFIED
    org.run(org.manager, c.PauseAgreement(agreement_id=aid, reason="x"))
    assert audit.sign_checkpoint(container.store, key) is not None
    found = _check(container, aid)
    assert (found.status, found.verified) == (audit.Status.VERIFIED, 6)


def test_an_edited_index_cannot_make_an_edited_event_pass(container: Container) -> None:
    _, aid, _key = _history(container)
    raw = Raw(container)
    raw.edit(aid, 5, actor_id="someone-else")
    forged = raw.hash_of(aid, 5)
    with container.engines.writer.begin() as conn:  # the attacker rewrites the index too
        conn.execute(
            merkle_index.leaves.update()
            .where(merkle_index.leaves.c.stream == str(aid), merkle_index.leaves.c.version == 5)
            .values(hash=forged)
        )
    found = _check(container, aid)
    assert found.status is audit.Status.BROKEN
    assert found.first_break is not None and found.first_break.kind == "NOT_IN_CHECKPOINT"


def test_what_crafting_verify_finds_is_an_alarm_every_process_shows(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, aid, _key = _history(container)
    assert container.settings.keys.signing_key is not None
    monkeypatch.setenv("CRAFTING_DATABASE_URL", container.settings.database.url)
    monkeypatch.setenv(
        "CRAFTING_SIGNING_KEY", container.settings.keys.signing_key.get_secret_value()
    )
    Raw(container).edit(aid, 3, actor_id="someone-else")
    found = CliRunner().invoke(cli, ["verify"])
    assert found.exit_code == 1, found.output
    with container.engines.reader.connect() as conn:
        kept = alarms.open_alarms(conn)
    assert [a.kind for a in kept] == ["integrity.break"]
    assert f"stream {aid}, version 4" in kept[0].detail


def test_a_float_orjson_writes_otherwise_verifies_and_an_edit_to_it_is_caught(
    container: Container,
) -> None:
    """verify's reader writes an event's canonical encoding with orjson only when orjson
    writes it byte for byte as the standard library does. 1e-05 hours (orjson writes
    0.00001; the service, which now takes quarter hours, may have written it before, as
    any later field may hold such a float) keep the hash the service tagged: the event
    is sealed and verifies, and an edit to it is caught."""
    _, aid, key = _history(container)
    raw = Raw(container)
    state = json.loads(raw.state(aid, 5))
    state["adjustment"]["_data_"]["hours_per_week"] = 1e-05
    state["previous_hash"] = raw.hash_of(aid, 5)
    state.pop(TAG_FIELD)
    topic = raw.topic(aid, 5)
    fields = hashed_fields(raw.transcoder.decode(json.dumps(state).encode()))
    state[TAG_FIELD] = event_tag(tag_key(key, "events"), event_hash(str(aid), 6, topic, fields))
    raw.insert(aid, 6, topic, state)
    assert b'"hours_per_week":1e-05' in raw.state(aid, 6)
    checkpoint = audit.sign_checkpoint(container.store, key)
    assert checkpoint is not None and checkpoint.position == raw.head()
    clean = audit.verify_store(
        container.store, public_key_b64(key), events_key=tag_key(key, "events")
    )
    assert clean.first_break is None
    assert audit.verify_stream(container.store, aid).first_break is None
    stored = raw.state(aid, 6)
    raw.set_state(aid, 6, stored.replace(b'"hours_per_week":1e-05', b'"hours_per_week":2e-05'))
    found = _verify(container, key)
    assert found is not None, "tampering went unnoticed"
    assert found.kind == "ROOT_MISMATCH", found
