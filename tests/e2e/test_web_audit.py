"""The auditors' and HR's pages over HTTP (in-process, both databases): an agreement's
timeline, what each version changed, time travel, the integrity badge and the
verifiable export, the audit-log search, the directory and everyone's agreements —
and the conflict a stale page gets, naming what changed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.graphql.ids import agreement_uuid
from domain.values import Role
from infra import audit
from infra.audit import report_tampered_snapshot
from infra.signing import new_private_key, public_key_b64, signing_key
from tests.e2e.conftest import Api, serving
from tests.e2e.web import CONFIRMED, hidden_fields, sign_in
from tests.e2e.world import World
from tests.tampering import TAMPERS, Raw

VERIFIER = Path(__file__).parents[2] / "domain" / "integrity.py"  # runs on its own
ADD = """mutation($input: AddAdjustmentInput!) { addAdjustment(input: $input) {
  agreement { adjustments { changeId description } } userErrors { code } } }"""
REVERT = """mutation($input: RevertChangeInput!) { revertChange(input: $input) {
  agreement { version } userErrors { code } } }"""
REVISE = """mutation($input: ReviseProposalInput!) { reviseProposal(input: $input) {
  agreement { version } userErrors { code } } }"""
LOG = """query($id: ID!) { auditLog(first: 50, filter: {agreementId: $id}, order: OLDEST_FIRST) {
  edges { node { version recordedAt correlationId } } } }"""


def _reverted(world: World) -> tuple[str, dict[str, Any]]:
    """An active agreement (versions 1, 2), an adjustment added (3) and reverted (4)."""
    aid = str(agreement_uuid(world.active()["id"]))
    added = world.api.data(
        world.manager,
        ADD,
        input={
            "agreementId": aid,
            "adjustment": {"kind": "RELATIONAL", "description": "Shadow a PM", "hoursPerWeek": 1},
        },
    )["addAdjustment"]
    change = next(a for a in added["agreement"]["adjustments"] if a["description"] == "Shadow a PM")
    reverted = world.api.data(
        world.manager,
        REVERT,
        input={"agreementId": aid, "changeId": change["changeId"], "reason": "Team crunch"},
    )["revertChange"]
    assert reverted["userErrors"] == [] and reverted["agreement"]["version"] == 4
    world.sync()
    return aid, change


def _as(api: Api, world: World, who: str) -> Any:
    roles = {
        "emp": (Role.EMPLOYEE,),
        "stranger": (Role.EMPLOYEE,),
        "mgr": (Role.MANAGER, Role.EMPLOYEE),
        "mgr2": (Role.MANAGER, Role.EMPLOYEE),
        "hr": (Role.HR,),
    }
    if who == "auditor":
        return sign_in(api.client, api.secret, f"auditor-{world.s}", Role.AUDITOR)
    return sign_in(api.client, api.secret, world.ids[who], *roles[who])


def test_the_timeline_shows_every_event_to_those_who_may_read_the_agreement(api: Api) -> None:
    world = World(api)
    aid, _ = _reverted(world)
    page = _as(api, world, "emp").get(f"/agreements/{aid}/timeline")
    assert page.status_code == 200
    text = page.text
    for version in (1, 2, 3, 4):
        assert f'id="v{version}"' in text
    assert "Proposed “Tester to product manager”" in text
    assert "Added an adjustment: Shadow a PM" in text
    assert world.ids["mgr"].title() in text and "as manager" in text  # display name, role
    assert "Reason: Team crunch" in text
    correlation = api.data(world.hr, LOG, id=aid)["auditLog"]["edges"][3]["node"]
    assert f"<code>{correlation['correlationId']}</code>" in text
    # The revert links to the change it reverted (on this page: an anchor).
    assert re.search(
        r'Reverts <a href="#v3">the adjustment “Shadow a PM”, recorded at version 3</a>', text
    )
    assert "Version 4: Reverted the adjustment “Shadow a PM”" in text
    assert f'href="/agreements/{aid}/as-of?version=2"' in text
    assert "revert-to" not in text  # only a manager is offered the revert preview
    manager = _as(api, world, "mgr").get(f"/agreements/{aid}/timeline").text
    assert f'href="/agreements/{aid}/revert-to?version=2"' in manager
    assert _as(api, world, "auditor").get(f"/agreements/{aid}/timeline").status_code == 200
    assert _as(api, world, "hr").get(f"/agreements/{aid}/timeline").status_code == 200
    # Another employee, another team's manager, a made-up and a malformed id: one 404.
    missing = [
        _as(api, world, "stranger").get(f"/agreements/{aid}/timeline"),
        _as(api, world, "mgr2").get(f"/agreements/{aid}/timeline"),
        _as(api, world, "emp").get("/agreements/00000000-0000-4000-8000-000000000000/timeline"),
        _as(api, world, "emp").get("/agreements/nope/timeline"),
    ]
    assert {r.status_code for r in missing} == {404}
    assert len({r.text.split("</header>")[1] for r in missing}) == 1


def test_the_timeline_pages_by_version_and_a_revert_links_across_pages(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.web.history.PAGE", 2)
    world = World(api)
    aid, _ = _reverted(world)
    auditor = _as(api, world, "auditor")
    first = auditor.get(f"/agreements/{aid}/timeline").text
    assert 'id="v2"' in first and 'id="v3"' not in first
    assert f'href="/agreements/{aid}/timeline?after=2"' in first
    second = auditor.get(f"/agreements/{aid}/timeline?after=2").text
    assert 'id="v3"' in second and 'id="v4"' in second and 'id="v1"' not in second
    assert 'href="#v3"' in second
    third = auditor.get(f"/agreements/{aid}/timeline?after=3").text
    assert f'href="/agreements/{aid}/timeline?after=2#v3"' in third  # on an earlier page
    assert auditor.get(f"/agreements/{aid}/timeline?after=x").status_code == 400


def test_the_timeline_pages_newest_first_on_asking(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.web.history.PAGE", 2)
    world = World(api)
    aid, _ = _reverted(world)
    auditor = _as(api, world, "auditor")
    base = f"/agreements/{aid}/timeline"
    first = auditor.get(base).text
    assert f'href="{base}?order=newest">Newest first' in first
    assert f'href="{base}?after=2#v4">Jump to the latest' in first
    newest = auditor.get(f"{base}?order=newest").text
    assert newest.index('id="v4"') < newest.index('id="v3"') and 'id="v2"' not in newest
    assert f'href="{base}?order=newest&amp;before=3">Earlier events' in newest
    earlier = auditor.get(f"{base}?order=newest&before=3").text
    assert earlier.index('id="v2"') < earlier.index('id="v1"') and 'id="v3"' not in earlier
    assert (
        "Earlier events" not in earlier and f'href="{base}?order=newest">Newest events' in earlier
    )
    assert auditor.get(f"{base}?order=newest&before=x").status_code == 400


def test_what_changed_shows_each_field_before_and_after(api: Api) -> None:
    world = World(api)
    aid = str(agreement_uuid(world.propose()["id"]))
    revised = api.data(
        world.employee,
        REVISE,
        input={
            "agreementId": aid,
            "title": "Tester to product owner",
            "careerGoal": {"targetRole": "Product owner", "skills": ["roadmapping"]},
            "adjustments": [],
        },
    )["reviseProposal"]
    assert revised["userErrors"] == []
    world.sync()  # the timeline reads the read models
    employee = _as(api, world, "emp")
    timeline = employee.get(f"/agreements/{aid}/timeline").text
    assert f'hx-get="/agreements/{aid}/changes?version=2"' in timeline
    fragment = employee.get(f"/agreements/{aid}/changes?version=2", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    rows = re.findall(
        r"<tr><th scope=\"row\">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>", fragment.text
    )
    assert ("Title", "Tester to product manager", "Tester to product owner") in rows
    assert ("Target role", "Product manager", "Product owner") in rows
    assert ("Skills", "customer research, roadmapping", "roadmapping") in rows
    assert any(r[0] == "Adjustment" and r[2] == "—" for r in rows)
    page = employee.get(f"/agreements/{aid}/changes?version=2")
    assert page.status_code == 200 and "<html" in page.text
    assert employee.get(f"/agreements/{aid}/changes?version=0").status_code == 400
    assert employee.get(f"/agreements/{aid}/changes?version=9").status_code == 400
    assert (
        _as(api, world, "stranger").get(f"/agreements/{aid}/changes?version=2").status_code == 404
    )


def test_time_travel_shows_the_agreement_as_it_was(api: Api) -> None:
    world = World(api)
    aid = str(agreement_uuid(world.propose()["id"]))
    api.data(
        world.employee,
        REVISE,
        input={
            "agreementId": aid,
            "title": "Tester to product owner",
            "careerGoal": {"targetRole": "Product owner", "skills": []},
        },
    )
    world.sync()
    employee = _as(api, world, "emp")
    then = employee.get(f"/agreements/{aid}/as-of?version=1")
    assert then.status_code == 200
    assert "As it was at version 1" in then.text
    assert "<h1>Tester to product manager" in then.text and "Write one feature brief" in then.text
    assert f'href="/agreements/{aid}">See it as it is now' in then.text
    recorded = api.data(world.hr, LOG, id=aid)["auditLog"]["edges"][0]["node"]["recordedAt"]
    at = employee.get(f"/agreements/{aid}/as-of", params={"at": recorded})
    assert at.status_code == 200 and "<h1>Tester to product manager" in at.text
    now = employee.get(f"/agreements/{aid}/as-of?version=2")
    assert "<h1>Tester to product owner" in now.text
    for bad in (
        "version=0",
        "version=3",
        "version=x",
        "at=yesterday",
        "",
    ):
        response = employee.get(f"/agreements/{aid}/as-of?{bad}")
        assert response.status_code == 400, bad
        assert "Traceback" not in response.text
        assert f'href="/agreements/{aid}/timeline">Back to the timeline' in response.text
    # Before it existed: said so (no agreement then: 404), with the way back.
    before = employee.get(f"/agreements/{aid}/as-of?at=2000-01-01T00:00:00Z")
    assert before.status_code == 404
    assert "had not been proposed yet" in before.text
    assert f'href="/agreements/{aid}/timeline">Back to the timeline' in before.text
    assert _as(api, world, "stranger").get(f"/agreements/{aid}/as-of?version=1").status_code == 404
    assert _as(api, world, "auditor").get(f"/agreements/{aid}/as-of?version=1").status_code == 200


def test_the_badge_and_export_verify_and_the_file_passes_the_standalone_verifier(
    sqlite_api: Api, tmp_path: Path
) -> None:
    api = sqlite_api
    world = World(api)
    aid, _ = _reverted(world)
    key = signing_key(api.container.settings)
    auditor = _as(api, world, "auditor")
    page = auditor.get(f"/agreements/{aid}").text
    assert f'hx-get="/agreements/{aid}/integrity"' in page
    assert f'href="/agreements/{aid}/export"' in page
    before = auditor.get(f"/agreements/{aid}/integrity", headers={"HX-Request": "true"}).text
    assert "Integrity: not yet verified" in before and "badge-pending" in before
    assert "badge-ok" not in before
    audit.sign_checkpoint(api.container.store, key)
    badge = auditor.get(f"/agreements/{aid}/integrity").text
    assert "Integrity: verified" in badge and "badge-ok" in badge
    assert "4 of 4 events shown to be part of the checkpoint signed" in badge
    assert public_key_b64(key) in badge
    download = auditor.get(f"/agreements/{aid}/export")
    assert download.status_code == 200
    assert f'filename="agreement-{aid}.jsonl"' in download.headers["content-disposition"]
    path = tmp_path / "agreement.jsonl"
    path.write_bytes(download.content)
    checked = subprocess.run(
        [sys.executable, str(VERIFIER), str(path), "--public-key", public_key_b64(key)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK" in checked.stdout
    # The badge and the export are for those who read everything.
    for who in ("emp", "mgr"):
        client = _as(api, world, who)
        assert client.get(f"/agreements/{aid}/integrity").status_code == 404
        assert client.get(f"/agreements/{aid}/export").status_code == 404
        assert "/integrity" not in client.get(f"/agreements/{aid}").text
    missing = "/agreements/00000000-0000-4000-8000-000000000000"
    assert auditor.get(f"{missing}/integrity").status_code == 404
    assert auditor.get(f"{missing}/export").status_code == 404


def test_a_tampered_event_breaks_the_badge(api: Api) -> None:
    world = World(api)
    aid, _ = _reverted(world)
    raw = Raw(api.container)
    stream = agreement_uuid(aid)
    state = raw.state(stream, 2)
    assert b'"review_every_days":14' in state
    raw.set_state(stream, 2, state.replace(b'"review_every_days":14', b'"review_every_days":15'))
    badge = _as(api, world, "auditor").get(f"/agreements/{aid}/integrity").text
    if (
        api.container.settings.database.is_sqlite
    ):  # the service's key is at hand: the tag tells first
        assert "At version 2: the event does not carry the service&#39;s tag" in badge
    else:  # no signing key configured: the chain tells
        assert "At version 3: the link from version 2 to version 3 is broken" in badge
    assert "badge-bad" in badge and "Integrity: history altered" in badge


def _badge(client: Any, aid: str) -> str:
    response = client.get(f"/agreements/{aid}/integrity", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return str(response.text)


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_the_badge_is_never_green_for_forged_history(prepared_database_url: str, kind: str) -> None:
    with serving(prepared_database_url, signing_key=new_private_key()) as api:
        world = World(api)
        aid, _ = _reverted(world)  # versions 1 to 4
        assert (
            audit.sign_checkpoint(api.container.store, signing_key(api.container.settings))
            is not None
        )
        auditor = _as(api, world, "auditor")
        assert "badge-ok" in _badge(auditor, aid)
        tamper, first = TAMPERS[kind]
        tamper(Raw(api.container), agreement_uuid(aid))
        badge = _badge(auditor, aid)
        assert "badge-bad" in badge and "badge-ok" not in badge, badge
        assert "Integrity: history altered" in badge
        assert f"At version {first(4)}:" in badge


def test_the_badge_shows_events_after_the_last_checkpoint_as_not_yet_verified(
    prepared_database_url: str,
) -> None:
    with serving(prepared_database_url, signing_key=new_private_key()) as api:
        world = World(api)
        aid, _ = _reverted(world)
        key = signing_key(api.container.settings)
        assert audit.sign_checkpoint(api.container.store, key) is not None
        pause = """mutation($input: AgreementCommandInput!) { pauseAgreement(input: $input) {
          userErrors { code } } }"""
        paused = api.data(world.manager, pause, input={"agreementId": aid, "reason": "x"})
        assert paused["pauseAgreement"]["userErrors"] == []
        badge = _badge(_as(api, world, "auditor"), aid)
        assert "badge-pending" in badge and "badge-ok" not in badge
        assert "Integrity: not yet verified" in badge
        assert "4 of 5 events" in badge
        assert "1 newer event, to be signed into the next checkpoint shortly" in badge
        # "Seal" means encrypting personal data only: checkpoints are signed.
        assert "seal" not in badge.lower()
        assert audit.sign_checkpoint(api.container.store, key) is not None
        assert "badge-ok" in _badge(_as(api, world, "auditor"), aid)


def test_a_stale_form_is_told_what_changed(api: Api) -> None:
    world = World(api)
    aid = str(agreement_uuid(world.active()["id"]))
    world.sync()
    employee = _as(api, world, "emp")
    fields = hidden_fields(employee.get(f"/agreements/{aid}").text, f"/agreements/{aid}/withdraw")
    api.data(
        world.manager,
        """mutation($id: ID!) { pauseAgreement(input: {agreementId: $id, reason: "Crunch"}) {
        userErrors { code } } }""",
        id=aid,
    )
    response = employee.post(
        f"/agreements/{aid}/withdraw", data=fields | {"reason": "Moving on"} | CONFIRMED
    )
    assert response.status_code == 409
    assert "This agreement changed since you opened it: Status: active → paused." in response.text


def test_the_audit_log_search_filters_by_actor_type_and_time(api: Api) -> None:
    world = World(api)
    aid, _ = _reverted(world)
    auditor = _as(api, world, "auditor")
    everything = auditor.get("/audit")
    assert everything.status_code == 200
    assert "Reverted a change" in everything.text
    by_manager = auditor.get("/audit", params={"actor": world.ids["mgr"]}).text
    assert "Reverted a change" in by_manager and "Approved" in by_manager
    assert "Proposed “" not in by_manager
    approvals = auditor.get("/audit", params={"type": "Approved"}).text
    assert "Approved, with guardrails" in approvals and "Reverted a change" not in approvals
    assert f'href="/agreements/{aid}/timeline?after=1#v2"' in approvals
    later = auditor.get("/audit", params={"from": "2999-01-01T00:00"}).text
    assert "No events match" in later
    assert auditor.get("/audit", params={"to": "soon"}).status_code == 400
    hr = _as(api, world, "hr")
    assert hr.get("/audit").status_code == 200
    for who in ("emp", "mgr"):
        assert _as(api, world, who).get("/audit").status_code == 404


def test_the_audit_log_pages_older_events(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.web.audit_log.PAGE", 2)
    world = World(api)
    _reverted(world)
    auditor = _as(api, world, "auditor")
    first = auditor.get("/audit", params={"actor": world.ids["mgr"]}).text
    older = re.search(r'href="(/audit\?[^"]+)">Older events', first)
    assert older is not None and "actor=" in older.group(1)
    second = auditor.get(older.group(1).replace("&amp;", "&")).text
    assert "Approved, with guardrails" in second  # the manager's first event


def test_the_directory_is_for_those_who_read_everything(api: Api) -> None:
    world = World(api)
    hr = _as(api, world, "hr")
    page = hr.get("/people", params={"q": world.s})
    assert page.status_code == 200
    assert world.ids["emp"].title() in page.text and f"emp-{world.s}@example.com" in page.text
    assert f"<td>{world.ids['mgr'].title()}</td>" in page.text  # the manager by name
    assert world.team in page.text
    one = hr.get("/people", params={"q": f"STRANGER-{world.s}"}).text
    assert world.ids["stranger"].title() in one and world.ids["emp"].title() not in one
    assert 'href="/people"' in hr.get("/").text  # in the navigation
    for who in ("emp", "mgr"):
        client = _as(api, world, who)
        assert client.get("/people").status_code == 404
        assert 'href="/people"' not in client.get("/").text


def test_everyones_agreements_filtered_by_status_employee_and_team(api: Api) -> None:
    world = World(api)
    active = str(agreement_uuid(world.active()["id"]))
    proposed = str(agreement_uuid(world.propose(world.stranger)["id"]))
    world.sync()
    hr = _as(api, world, "hr")
    team = hr.get("/agreements", params={"team": world.team}).text
    assert active in team and proposed not in team
    assert world.ids["emp"].title() in team
    stranger = hr.get("/agreements", params={"employee": world.ids["stranger"]}).text
    assert proposed in stranger and active not in stranger
    status = hr.get("/agreements", params={"status": "PROPOSED", "team": f"other-{world.s}"}).text
    assert proposed in status
    assert (
        active not in hr.get("/agreements", params={"status": "PROPOSED", "team": world.team}).text
    )
    assert hr.get("/agreements", params={"status": "BOGUS"}).status_code == 400
    # An employee's list holds only what they may read (the same scope as GraphQL).
    mine = _as(api, world, "emp").get("/agreements").text
    assert active in mine and proposed not in mine


def test_an_alarm_about_the_agreement_keeps_the_badge_from_green(
    prepared_database_url: str,
) -> None:
    with serving(prepared_database_url, signing_key=new_private_key()) as api:
        world = World(api)
        aid, _ = _reverted(world)
        other, _ = _reverted(world)
        assert (
            audit.sign_checkpoint(api.container.store, signing_key(api.container.settings))
            is not None
        )
        auditor = _as(api, world, "auditor")
        assert "badge-ok" in _badge(auditor, aid)
        # Raised by another process (a projector replaying past a forged snapshot).
        report_tampered_snapshot(agreement_uuid(aid), 3, api.container.engines.writer)
        badge = _badge(auditor, aid)
        assert "badge-ok" not in badge and "Integrity: alarm raised" in badge
        assert f"The snapshot of agreement {aid} at version 3 failed its tag" in badge
        elsewhere = _badge(auditor, other)
        assert "badge-ok" in elsewhere
        assert "1 alarm about stored data elsewhere in the service is open" in elsewhere
