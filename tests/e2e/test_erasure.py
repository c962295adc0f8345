"""Erasure by crypto-shredding, over HTTP on both databases: personal data is sealed at rest,
`erasePerson` destroys the person's key with the event that records it, every place
then shows "[erased]", and the history still verifies."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import RecordConflictError
from sqlalchemy import create_engine, event, inspect, select, text

from api.graphql.ids import agreement_uuid, global_id
from domain.access import Actor
from domain.application import Request
from domain.application import commands as c
from domain.metadata import Meta
from domain.sealing import ERASED, KeysUnavailable, Opened, Sealed
from domain.values import Role
from infra import audit
from infra.keystore import KeyStore
from infra.retention import destroy_keys_of_erased, erase_past_retention
from infra.signing import new_private_key, public_key_b64, signing_key
from tests.e2e.conftest import Api, serving
from tests.e2e.webhooks_support import change, subscribe, webhook_service
from tests.e2e.world import World
from tests.processes import eventually
from tests.webhook_receiver import receiving

REALLOCATE = """mutation($input: ReallocateTaskInput!) { reallocateTask(input: $input) {
  agreement { version reallocations { id changeId task reason } } userErrors { code } } }"""
REVIEW = """mutation($input: RecordReviewInput!) { recordReview(input: $input) {
  agreement { version } userErrors { code } } }"""
ARTIFACT = """mutation($input: RecordArtifactInput!) { recordArtifact(input: $input) {
  agreement { version } userErrors { code } } }"""
REVERT = """mutation($input: RevertChangeInput!) { revertChange(input: $input) {
  agreement { version reallocations { status reason } changes { changeId revertsChangeId } }
  userErrors { code message } } }"""
ERASE = """mutation($input: ErasePersonInput!) { erasePerson(input: $input) {
  person { personId displayName email erased legalHold } position eventsInClear
  userErrors { field message code } } }"""
HOLD = """mutation($input: LegalHoldInput!) { placeLegalHold(input: $input) {
  person { legalHold } userErrors { code } } }"""
LIFT = """mutation($input: LegalHoldInput!) { liftLegalHold(input: $input) {
  person { legalHold } userErrors { code } } }"""
READ = """query($id: ID!) { agreement(id: $id) { title careerGoal { targetRole skills }
  employee { displayName email erased }
  adjustments { description } reallocations { task reason status }
  reviews { notes } artifacts { title url skills } guardrails { protectedResponsibilities } } }"""
AUDIT = """query($id: ID!) { auditLog(first: 100, filter: {agreementId: $id}) {
  edges { node { type reason payload } } } }"""
AT = """query($id: ID!, $v: Int) { agreementAt(id: $id, version: $v) { title
  careerGoal { targetRole } adjustments { description } } }"""
VERIFY = """query($id: ID!) { verifyIntegrity(agreementId: $id) { intact eventsChecked } }"""


@pytest.fixture
def api(prepared_database_url: str) -> Iterator[Api]:
    """The service with a signing key on both databases (checkpoints, snapshots)."""
    with serving(prepared_database_url, signing_key=new_private_key()) as served:
        yield served


class Story:
    """An employee with a unique name, e-mail and free texts on one agreement."""

    def __init__(self, api: Api, world: World | None = None) -> None:
        self.world = w = world or World(api)
        s = w.s
        self.secrets = {
            "name": f"Zelda Quixote {s}",
            "email": f"zelda.{s}@example.org",
            "title": f"Title-{s} towards data science",
            "role": f"Role-{s}",
            "skill": f"Skill-{s}",
            "description": f"Desc-{s} pair with analysts",
            "guard": f"Guard-{s}",
            "task": f"Task-{s} weekly report",
            "why": f"Why-{s} she needs the time",
            "notes": f"Notes-{s} doing well",
            "artifact": f"Artifact-{s} dashboard",
            "url": f"https://example.org/{s}/work",
        }
        x = self.secrets
        w.api.data(
            w.hr,
            "mutation($input: UpsertPeopleInput!) { upsertPeople(input: $input) { position } }",
            input={
                "people": [
                    {
                        "id": w.ids["emp"],
                        "displayName": x["name"],
                        "email": x["email"],
                        "managerId": w.ids["mgr"],
                        "teamId": w.team,
                        "contractedHoursPerWeek": 40,
                    }
                ]
            },
        )
        proposed = w.propose(
            title=x["title"],
            careerGoal={"targetRole": x["role"], "skills": [x["skill"]]},
            adjustments=[{"kind": "TASK", "description": x["description"], "hoursPerWeek": 2}],
        )
        self.id = proposed["id"]
        approved = w.api.data(
            w.manager,
            """mutation($input: ApproveAgreementInput!) { approveAgreement(input: $input) {
              userErrors { code } } }""",
            input={
                "agreementId": self.id,
                "guardrails": {
                    "maxDevelopmentHoursPerWeek": 6,
                    "reviewEveryDays": 14,
                    "protectedResponsibilities": [x["guard"]],
                },
            },
        )
        assert approved["approveAgreement"]["userErrors"] == []
        moved = w.api.data(
            w.manager,
            REALLOCATE,
            input={
                "agreementId": self.id,
                "task": x["task"],
                "hoursPerWeek": 2,
                "toPersonId": w.ids["mate"],
                "reason": x["why"],
            },
        )["reallocateTask"]
        assert moved["userErrors"] == []
        self.reallocation = moved["agreement"]["reallocations"][0]
        for query, values in (
            (REVIEW, {"outcome": "ON_TRACK", "notes": x["notes"]}),
            (ARTIFACT, {"title": x["artifact"], "kind": "DEMO", "url": x["url"]}),
        ):
            done = w.api.data(w.manager, query, input={"agreementId": self.id, **values})
            assert next(iter(done.values()))["userErrors"] == []
        w.sync()

    def erase(self, token: str | None = None, person: str | None = None) -> dict[str, Any]:
        w = self.world
        body = w.api.gql(
            token or w.hr,
            ERASE,
            input={"personId": person or w.ids["emp"], "reason": f"Art. 17 request {w.s}"},
        )
        return body


def hits(api: Api, needles: list[str], tables: list[str] | None = None) -> dict[str, list[str]]:
    """Which of `needles` appear in which table of the database (every column as text)."""
    engine = api.container.engines.writer
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        names = tables or inspect(conn).get_table_names()
        for name in names:
            rows = conn.execute(select(text("*")).select_from(text(f'"{name}"'))).all()
            blob = "\n".join(
                repr(v) if not isinstance(v, bytes | memoryview) else bytes(v).decode("latin-1")
                for row in rows
                for v in row
            )
            present = [n for n in needles if n in blob]
            if present:
                found[name] = present
    return found


def verified(api: Api) -> audit.Verifier:
    container = api.container
    audit.sign_checkpoint(container.store, signing_key(container.settings))
    return audit.verify_store(container.store, public_key_b64(signing_key(container.settings)))


def test_personal_data_is_sealed_at_rest_and_erasure_leaves_nothing_but_a_verifiable_history(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    story = Story(api)
    w, needles = story.world, list(story.secrets.values())
    events_table = api.container.app.recorder.events_table_name  # type: ignore[attr-defined]
    assert hits(api, needles, [events_table]) == {}  # encrypted at rest, before any erasure
    before = api.data(w.manager, READ, id=story.id)["agreement"]
    assert before["title"] == story.secrets["title"]  # readable by who may read it
    assert before["employee"]["displayName"] == story.secrets["name"]
    assert verified(api).first_break is None

    erased = story.erase()
    assert erased["data"]["erasePerson"]["userErrors"] == [], erased
    payload = erased["data"]["erasePerson"]
    assert payload["person"] == {
        "personId": w.ids["emp"],
        "displayName": ERASED,
        "email": ERASED,
        "erased": True,
        "legalHold": False,
    }
    assert payload["eventsInClear"] == 0
    w.sync()

    assert hits(api, needles) == {}  # every table: events, snapshots, read models, keys
    # (the scan does see what is stored in clear: ids)
    assert {events_table, "crafting_data_keys"} <= set(hits(api, [w.ids["emp"]]))
    after = api.data(w.manager, READ, id=story.id)["agreement"]
    assert after["title"] == ERASED
    assert after["careerGoal"] == {"targetRole": ERASED, "skills": [ERASED]}
    assert after["employee"] == {"displayName": ERASED, "email": ERASED, "erased": True}
    assert after["adjustments"] == [{"description": ERASED}]
    assert after["reallocations"] == [{"task": ERASED, "reason": ERASED, "status": "ACTIVE"}]
    assert after["reviews"] == [{"notes": ERASED}]
    assert after["artifacts"] == [{"title": ERASED, "url": ERASED, "skills": []}]
    assert after["guardrails"] == {"protectedResponsibilities": [ERASED]}
    log = api.data(w.auditor, AUDIT, id=story.id)["auditLog"]["edges"]
    shown = repr(log)
    assert not [n for n in needles if n in shown]
    assert ERASED in shown
    first = api.data(w.auditor, AT, id=story.id, v=1)["agreementAt"]
    assert first == {
        "title": ERASED,
        "careerGoal": {"targetRole": ERASED},
        "adjustments": [{"description": ERASED}],
    }
    changes = api.data(w.integration, "{ changes(first: 100) { edges { node { payload } } } }")
    assert not [n for n in needles if n in repr(changes)]

    # The history still verifies, end to end and per agreement.
    report = verified(api)
    assert report.first_break is None, report.first_break
    assert api.data(w.auditor, VERIFY, id=story.id)["verifyIntegrity"]["intact"] is True

    # The rules keep working on the erased employee's agreement: the manager reverts
    # the reallocation (its reason cannot be recorded about an erased person).
    reverted = api.data(
        w.manager,
        REVERT,
        input={
            "agreementId": story.id,
            "changeId": story.reallocation["changeId"],
            "reason": "Back to the team",
        },
    )["revertChange"]
    assert reverted["userErrors"] == []
    assert reverted["agreement"]["reallocations"] == [{"status": "REVERTED", "reason": ERASED}]
    # ... and re-applies it: erased texts compare with nothing (the task and the
    # protected responsibilities all read "[erased]" now, and are not the same).
    (undo,) = [
        ch["changeId"]
        for ch in reverted["agreement"]["changes"]
        if ch["revertsChangeId"] == story.reallocation["changeId"]
    ]
    again_applied = api.data(
        w.manager,
        REVERT,
        input={"agreementId": story.id, "changeId": undo, "reason": "After all"},
    )["revertChange"]
    assert again_applied["userErrors"] == []
    assert again_applied["agreement"]["reallocations"] == [{"status": "ACTIVE", "reason": ERASED}]
    w.sync()
    assert hits(api, ["Back to the team"], [events_table]) == {}

    # A rebuild after the erasure equals the incremental read models.
    incremental = api.data(w.manager, READ, id=story.id)
    api.container.rebuild()
    assert api.data(w.manager, READ, id=story.id) == incremental
    assert verified(api).first_break is None

    # Nothing personal reached the service's logs either.
    assert caplog.records and not [n for n in needles if n in caplog.text]

    # Erased once: a second erasure is refused, and nothing is recorded.
    position = api.position()
    again = story.erase()["data"]["erasePerson"]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]
    assert api.position() == position


def test_a_legal_hold_refuses_erasure_until_lifted_and_only_hr_erases(api: Api) -> None:
    story = Story(api)
    w = story.world
    emp = w.ids["emp"]
    refused = story.erase(token=w.manager)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    hold = {"personId": emp, "reason": f"Litigation {w.s}"}
    assert api.data(w.hr, HOLD, input=hold)["placeLegalHold"]["person"] == {"legalHold": True}
    position = api.position()
    held = story.erase()["data"]["erasePerson"]
    assert [e["code"] for e in held["userErrors"]] == ["LEGAL_HOLD"]
    assert api.position() == position  # nothing recorded, the key kept
    assert api.data(w.manager, READ, id=story.id)["agreement"]["title"] == story.secrets["title"]
    assert api.data(w.hr, LIFT, input=hold)["liftLegalHold"]["person"] == {"legalHold": False}
    assert story.erase()["data"]["erasePerson"]["userErrors"] == []
    unknown = story.erase(person=f"nobody-{w.s}")["data"]["erasePerson"]
    assert [e["code"] for e in unknown["userErrors"]] == ["UNKNOWN_PERSON"]


def test_an_erasure_and_its_key_destruction_commit_together(api: Api) -> None:
    """If the erasure event cannot be recorded, the key stays; when it is, the key is
    gone in the same transaction."""
    story = Story(api)
    w, app, keys = story.world, api.container.app, api.container.keys
    kid = _kid_of(api, story.id)
    stale = app.find_person(w.ids["emp"])
    assert stale is not None
    hold = {"personId": w.ids["emp"], "reason": "hold"}
    api.data(w.hr, HOLD, input=hold)
    api.data(w.hr, LIFT, input=hold)  # the person's stream moved on: `stale` is behind
    stale.erase(Meta(actor_id=w.ids["hr"], actor_role="HR", correlation_id="t", reason="x"))
    with pytest.raises(RecordConflictError):
        app.save(stale, destroy_keys=(w.ids["emp"],))
    assert keys.store.data_key(kid) is not None  # rolled back with the event
    keys.forget(w.ids["emp"])
    assert api.data(w.manager, READ, id=story.id)["agreement"]["title"] == story.secrets["title"]

    result = app.execute(
        Request(Actor(w.ids["hr"], frozenset({Role.HR})), "t"),
        c.ErasePerson(person_id=w.ids["emp"], reason="Art. 17"),
    )
    assert result.people[0].erased
    assert keys.store.data_key(kid) is None


def _kid_of(api: Api, agreement_id: str) -> str:
    agreement = api.container.app.load_agreement(agreement_uuid(agreement_id, "id"))
    assert agreement is not None and isinstance(agreement.title, Opened)
    return Sealed(agreement.title.envelope).kid


def test_with_the_key_store_down_commands_record_nothing_and_reads_fail_clearly(
    api: Api,
) -> None:
    story = Story(api)
    w, keys = story.world, api.container.keys
    working = keys.store
    keys.store = KeyStore(
        create_engine("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=1"),
        working.master_key,
    )
    keys.forget_all()
    try:
        position = api.position()
        body = api.gql(
            w.manager,
            REVIEW,
            input={"agreementId": story.id, "outcome": "ON_TRACK", "notes": "Fine"},
        )
        assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert api.position() == position  # nothing recorded
        read = api.gql(w.manager, READ, id=story.id)
        assert read["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert story.secrets["title"] not in repr(read)
    finally:
        keys.store = working
        keys.forget_all()
    assert api.data(w.manager, READ, id=story.id)["agreement"]["title"] == story.secrets["title"]


def test_retention_erases_exactly_the_people_past_the_window(database_url: str) -> None:
    with serving(database_url, retention_days_after_leaving=30) as api:
        w = World(api)
        gone, held = w.ids["mate"], w.ids["mate2"]
        left = {"managerId": w.ids["mgr"], "teamId": w.team, "contractedHoursPerWeek": 40}
        api.data(
            w.hr,
            "mutation($input: UpsertPeopleInput!) { upsertPeople(input: $input) { position } }",
            input={
                "people": [
                    {"id": pid, "displayName": pid, "email": f"{pid}@example.com", "active": False}
                    | left
                    for pid in (gone, held)
                ]
            },
        )
        api.data(w.hr, HOLD, input={"personId": held, "reason": "Litigation"})
        w.sync()
        left_at = datetime.now(UTC)
        container = api.container
        assert erase_past_retention(container, left_at + timedelta(days=29)).erased == []
        run = erase_past_retention(container, left_at + timedelta(days=31))
        assert run.erased == [gone]  # not the one on hold, nor anyone still active
        w.sync()
        erased = {
            pid: api.data(
                w.hr, "query($id: ID!) { person(id: $id) { erased } }", id=global_id("Person", pid)
            )["person"]["erased"]
            for pid in (gone, held, w.ids["emp"])
        }
        assert erased == {gone: True, held: False, w.ids["emp"]: False}
        again = erase_past_retention(container, left_at + timedelta(days=31))
        assert again.erased == [] and again.refused == {}


def test_a_key_store_of_its_own_holds_every_key_and_erasure_destroys_it_there(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database_url.startswith("sqlite"):
        keystore_url = f"sqlite:///{tmp_path}/keys.db"
    else:
        base, _, _ = database_url.partition("?")
        schema = f"keys_{uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        keystore_url = f"{base}?schema={schema}"
    with serving(database_url, keystore_url=keystore_url) as api:
        story = Story(api)
        w, keys = story.world, api.container.keys
        with api.container.engines.reader.connect() as conn:
            assert "crafting_data_keys" not in inspect(conn).get_table_names()
        assert hits(api, list(story.secrets.values())) == {}
        kid = _kid_of(api, story.id)
        assert keys.store.data_key(kid) is not None
        # The key store fails right after the erasure is recorded: the erasure stands,
        # and the reconciliation destroys the key.
        destroy = keys.destroy
        monkeypatch.setattr(keys, "destroy", _unreachable)
        assert story.erase()["data"]["erasePerson"]["userErrors"] == []
        assert keys.store.data_key(kid) is not None
        monkeypatch.setattr(keys, "destroy", destroy)
        w.sync()
        assert destroy_keys_of_erased(api.container) >= 1
        assert keys.store.data_key(kid) is None
        keys.forget_all()
        assert api.data(w.manager, READ, id=story.id)["agreement"]["title"] == ERASED


def _unreachable(subject_id: str) -> None:
    raise KeysUnavailable(subject_id)


def test_a_page_looks_its_keys_up_at_once(api: Api) -> None:
    w = World(api)
    mate2 = api.token(w.ids["mate2"], Role.EMPLOYEE)
    for token in (w.employee, w.mate, mate2, w.stranger, w.manager, w.other_manager):
        w.propose(token)
    w.sync()
    # The service's notifications open keys too as they send (on their own threads):
    # let them go out first, so only the page's look-ups are counted.
    notices = api.container.notifications(api.secret)
    assert eventually(lambda: notices.backlog().pending == 0, timeout=20)
    statements: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The followers (threads "follower-…": webhooks, mail) may open keys meanwhile
        # on the same engine; a loaded run counted their look-ups as the page's.
        if "crafting_data_keys" in statement and not threading.current_thread().name.startswith(
            "follower-"
        ):
            statements.append(statement)

    api.container.keys.forget_all()
    engine = api.container.engines.reader
    event.listen(engine, "before_cursor_execute", counted)
    try:
        page = api.data(
            w.hr, "{ agreements(first: 10) { edges { node { title employee { displayName } } } } }"
        )["agreements"]["edges"]
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert {e["node"]["employee"]["displayName"] for e in page} >= {
        w.ids[p].title() for p in ("emp", "mate", "mate2", "stranger", "mgr", "mgr2")
    }
    assert 1 <= len(statements) <= 2  # the page's, the people's: not one per person


def test_webhooks_carry_personal_data_as_erasure_leaves_it(database_url: str) -> None:
    """Deliveries are built when sent: events queued before an erasure go out erased."""
    with webhook_service(database_url) as api, receiving() as receiver:
        world = World(api)
        created = subscribe(api, world.hr, receiver.url)
        receiver.secrets = [created["secret"]]
        sid = created["subscription"]["id"]
        paused = change(api, world.hr, "pauseWebhookSubscription", sid, reason="hold")
        assert paused["subscription"]["status"] == "PAUSED"
        story = Story(api, world)
        assert story.erase()["data"]["erasePerson"]["userErrors"] == []
        change(api, world.hr, "resumeWebhookSubscription", sid)
        assert eventually(
            lambda: any(b["type"] == "PersonErased" for b in receiver.accepted), 60
        ), receiver.accepted
        shown = json.dumps(receiver.accepted)
        assert receiver.rejected == []  # every delivery verified (standardwebhooks)
        assert not [n for n in story.secrets.values() if n in shown]
        assert ERASED in shown
        story_agreement = str(agreement_uuid(story.id, "id"))
        assert any(b.get("agreementId") == story_agreement for b in receiver.accepted)


def test_retention_run_by_several_processes_at_once_erases_each_person_once(
    database_url: str,
) -> None:
    """Serve workers and projectors may all run retention: each erasure is recorded once."""
    with serving(database_url, retention_days_after_leaving=30) as api:
        w = World(api)
        leavers = [w.ids[p] for p in ("mate", "mate2", "stranger")]
        api.data(
            w.hr,
            "mutation($input: UpsertPeopleInput!) { upsertPeople(input: $input) { position } }",
            input={
                "people": [
                    {
                        "id": pid,
                        "displayName": pid,
                        "email": f"{pid}@example.com",
                        "managerId": w.ids["mgr"],
                        "teamId": w.team,
                        "contractedHoursPerWeek": 40,
                        "active": False,
                    }
                    for pid in leavers
                ]
            },
        )
        w.sync()
        later = datetime.now(UTC) + timedelta(days=31)
        runs: list[Any] = []
        start = threading.Barrier(4)

        def run() -> None:
            start.wait()
            try:
                runs.append(erase_past_retention(api.container, later))
            except Exception as error:  # the assertion below shows it
                runs.append(error)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(runs) == 4 and all(not isinstance(r, Exception) for r in runs), runs
        erased = [pid for r in runs for pid in r.erased]
        assert sorted(erased) == sorted(leavers)  # once each, across all the runs
        recorded = [
            n
            for n in api.container.app.recorder.select_notifications(1, 100_000)
            if n.topic.endswith("PersonErased")
        ]
        assert len(recorded) == len(leavers)
