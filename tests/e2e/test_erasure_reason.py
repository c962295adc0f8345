"""HR's reason for an erasure stays readable after it (both databases): it is HR's text,
not the erased person's, so the erasure event records it in clear while everything of
theirs is sealed under the key it destroys. The audit row (GraphQL and the web page)
and the person's page show it, a rebuild gives the same, and the history still verifies.
Erasures recorded before this sealed their reason under the destroyed key: they keep
reading "[erased]" in the API, the pages say the reason was not kept, and they verify."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import cli
from api.web.words import REASON_NOT_KEPT
from domain.person import Person
from domain.sealing import ERASED
from domain.values import Role
from infra import audit
from infra.signing import new_private_key, public_key_b64, signing_key
from tests.e2e.conftest import Api, serving
from tests.e2e.test_erasure import ERASE, hits
from tests.e2e.web import CONFIRMED, hidden_fields, sign_in
from tests.e2e.world import World

ERASURES = """query($actor: String!) { auditLog(first: 10,
  filter: {actorId: $actor, types: ["PersonErased"]}) {
  edges { node { type reason streamId payload } } } }"""
NOTE = "Do not put personal data in the reason"
VERIFIER = Path(__file__).parents[2] / "domain" / "integrity.py"  # runs on its own


@pytest.fixture
def api(prepared_database_url: str) -> Iterator[Api]:
    """The service with a signing key on both databases (checkpoints to verify)."""
    with serving(prepared_database_url, signing_key=new_private_key()) as served:
        yield served


def _erasure_rows(api: Api, w: World) -> list[dict[str, Any]]:
    edges = api.data(w.auditor, ERASURES, actor=w.ids["hr"])["auditLog"]["edges"]
    return [e["node"] for e in edges]


def _verified(api: Api) -> None:
    """What `crafting verify` checks, in-process on either database: the chains and a
    fresh checkpoint, and every data key (missing only where an erasure is recorded)."""
    container = api.container
    key = signing_key(container.settings)
    audit.sign_checkpoint(container.store, key)
    report = audit.verify_store(container.store, public_key_b64(key))
    assert report.first_break is None, report.first_break
    _, problems = audit.verify_keys(container.store, container.keys.store)
    assert problems == []


def _erase_on_the_web(api: Api, w: World, hr: TestClient, person: str, reason: str) -> str:
    """HR erases `person` through their page's form, confirmed: the page shown after."""
    page = hr.get(f"/people/{person}")
    assert page.status_code == 200
    fields = hidden_fields(page.text, f"/people/{person}/erase")
    done = hr.post(f"/people/{person}/erase", data={**fields, "reason": reason, **CONFIRMED})
    assert done.status_code == 303, done.text
    w.sync()
    shown = hr.get(done.headers["location"])
    assert shown.status_code == 200
    return shown.text


def test_hr_s_reason_for_an_erasure_reads_on_its_audit_row_and_page_after_a_rebuild_and_verifies(
    api: Api,
) -> None:
    w = World(api)
    emp, reason = w.ids["emp"], f"Art. 17 request, ticket PRIV-{w.s}"
    hr = sign_in(api.client, api.secret, w.ids["hr"], Role.HR)
    form = hr.get(f"/people/{emp}").text
    assert NOTE in form  # the form says what not to write, beside the field

    page = _erase_on_the_web(api, w, hr, emp, reason)
    assert '<dd id="erasure">' + reason in page
    assert f"erased by {w.ids['hr'].title()}" in page

    def read_everywhere() -> None:
        (row,) = _erasure_rows(api, w)
        assert row["reason"] == reason
        assert row["streamId"] == str(Person.id_for(emp))
        auditor = sign_in(api.client, api.secret, f"auditor-{w.s}", Role.AUDITOR)
        log = auditor.get("/audit", params={"actor": w.ids["hr"], "type": "PersonErased"})
        assert log.status_code == 200
        assert f"<td>{reason}</td>" in log.text
        assert ERASED not in log.text
        person = auditor.get(f"/people/{emp}").text
        assert '<dd id="erasure">' + reason in person
        assert "Emp-" not in person  # their own name is gone, HR's words are not

    read_everywhere()
    # Recorded in clear on purpose: the events table holds HR's words, not the person's.
    events_table = api.container.app.recorder.events_table_name  # type: ignore[attr-defined]
    assert events_table in hits(api, [reason], [events_table])
    _verified(api)

    api.container.rebuild()
    read_everywhere()
    _verified(api)


def test_the_reason_obeys_the_rules_of_every_reason_and_nothing_is_recorded(api: Api) -> None:
    w = World(api)
    position = api.position()
    for bad in ("   ", "Because\u202eevil", "x" * 2001):
        refused = api.data(w.hr, ERASE, input={"personId": w.ids["emp"], "reason": bad})
        assert refused["erasePerson"]["userErrors"], bad
    assert api.position() == position


def _exported_and_verified(api: Api, path: Path) -> str:
    """The whole store exported (texts opened where they still open) and checked by the
    standalone verifier, as an auditor would: the file's text."""
    container = api.container
    key = signing_key(container.settings)
    audit.sign_checkpoint(container.store, key)
    with path.open("w") as out:
        audit.export(container.store, out, keys=container.keys)
    checked = subprocess.run(
        [sys.executable, str(VERIFIER), str(path), "--public-key", public_key_b64(key)],
        capture_output=True,
        text=True,
        check=False,
        cwd=path.parent,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return path.read_text()


def test_an_erasure_recorded_before_reasons_were_kept_still_reads_and_verifies(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The previous release sealed the erasure's reason under the erased person's key,
    like every reason of theirs: such an event is left exactly as it is."""
    w = World(api)
    old, new = w.ids["emp"], w.ids["mate"]
    with monkeypatch.context() as previous_release:
        previous_release.setattr(Person.PersonErased, "NOT_PERSONAL", frozenset())
        erased = api.data(w.hr, ERASE, input={"personId": old, "reason": f"Old-{w.s}"})
    assert erased["erasePerson"]["userErrors"] == []
    assert erased["erasePerson"]["eventsInClear"] == 0
    kept = api.data(w.hr, ERASE, input={"personId": new, "reason": f"New-{w.s}"})
    assert kept["erasePerson"]["userErrors"] == []
    assert kept["erasePerson"]["eventsInClear"] == 0  # HR's reason is not theirs
    w.sync()
    events_table = api.container.app.recorder.events_table_name  # type: ignore[attr-defined]
    assert hits(api, [f"Old-{w.s}", f"New-{w.s}"], [events_table]) == {events_table: [f"New-{w.s}"]}

    def read_both() -> None:
        by_stream = {r["streamId"]: r["reason"] for r in _erasure_rows(api, w)}
        assert by_stream == {
            str(Person.id_for(old)): ERASED,  # the API's marker for what was erased
            str(Person.id_for(new)): f"New-{w.s}",
        }
        hr = sign_in(api.client, api.secret, w.ids["hr"], Role.HR)
        log = hr.get("/audit", params={"actor": w.ids["hr"], "type": "PersonErased"}).text
        assert f"<td>{REASON_NOT_KEPT}</td>" in log and f"<td>New-{w.s}</td>" in log
        assert '<dd id="erasure">' + REASON_NOT_KEPT in hr.get(f"/people/{old}").text
        assert '<dd id="erasure">' + f"New-{w.s}" in hr.get(f"/people/{new}").text

    read_both()
    _verified(api)
    exported = _exported_and_verified(api, tmp_path / "store.jsonl")
    assert f"New-{w.s}" in exported and f"Old-{w.s}" not in exported
    api.container.rebuild()
    read_both()
    _verified(api)


def test_crafting_verify_passes_after_an_erasure_with_its_reason_in_clear(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = World(sqlite_api)
    erased = sqlite_api.data(w.hr, ERASE, input={"personId": w.ids["emp"], "reason": "Asked"})
    assert erased["erasePerson"]["userErrors"] == []
    monkeypatch.setenv("CRAFTING_DATABASE_URL", sqlite_api.container.settings.database.url)
    runner = CliRunner()
    assert runner.invoke(cli, ["checkpoint"]).exit_code == 0
    verified = runner.invoke(cli, ["verify", "--read-models"])
    assert verified.exit_code == 0, verified.output
    assert "every missing one was erased" in verified.output
