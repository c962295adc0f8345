"""What the hash chains cannot see: the data keys. A key removed around the service
(not by an erasure) or damaged reads as "[unreadable]", never as "[erased]" and never as
a 500; commands for that person are refused with nothing recorded; `crafting verify`
names both and raises an alarm every process shows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from api.cli import cli
from api.graphql.ids import agreement_uuid
from domain.sealing import ERASED, UNREADABLE
from domain.values import Role
from infra import alarms, audit
from infra.keystore import data_keys
from infra.signing import new_private_key
from tests.e2e.conftest import Api, serving
from tests.e2e.web import sign_in
from tests.e2e.world import World

READ = """query($id: ID!) { agreement(id: $id) { title employee { displayName erased } } }"""
REVIEW = """mutation($input: RecordReviewInput!) { recordReview(input: $input) {
  agreement { version } userErrors { code } } }"""
REVISE_GOAL = """mutation($input: ProposeAgreementInput!) { proposeAgreement(input: $input) {
  agreement { id } userErrors { code } } }"""


@pytest.fixture
def api(prepared_database_url: str) -> Iterator[Api]:
    with serving(prepared_database_url, signing_key=new_private_key()) as served:
        yield served


def _set_wrapped(api: Api, subject: str, value: bytes | None) -> None:
    """Change the stored wrapped key in SQL, as someone with database access would."""
    with api.container.engines.writer.begin() as conn:
        conn.execute(
            update(data_keys).where(data_keys.c.subject_id == subject).values(wrapped=value)
        )
    api.container.keys.forget_all()  # what the cache would do within seconds


def _wrapped(api: Api, subject: str) -> bytes:
    with api.container.engines.reader.connect() as conn:
        found = conn.execute(
            select(data_keys.c.wrapped).where(data_keys.c.subject_id == subject)
        ).scalar_one()
    return bytes(found)


def test_a_key_removed_in_sql_reads_unreadable_and_verify_names_it(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    w.sync()  # the reads below are of the read models
    employee = w.ids["emp"]
    _set_wrapped(api, employee, None)
    body = api.gql(w.hr, READ, id=aid)
    assert "errors" not in body, body
    shown = body["data"]["agreement"]
    assert shown["employee"] == {"displayName": UNREADABLE, "erased": False}
    assert shown["title"] == UNREADABLE and ERASED not in str(shown)
    # Nothing can be recorded about them as if they were erased: refused, not a 500.
    refused = api.gql(
        w.manager, REVIEW, input={"agreementId": aid, "outcome": "ON_TRACK", "notes": "ok"}
    )
    assert refused["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", refused
    checked, problems = audit.verify_keys(api.container.store, api.container.keys.store)
    assert [(p.subject_id, p.kind) for p in problems] == [(employee, "KEY_MISSING")]
    assert checked >= 3


def test_a_damaged_key_reads_unreadable_everywhere_and_verify_names_it(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    w.sync()  # the reads below are of the read models
    employee = w.ids["emp"]
    wrapped = bytearray(_wrapped(api, employee))
    wrapped[-1] ^= 0x01
    _set_wrapped(api, employee, bytes(wrapped))
    body = api.gql(w.hr, READ, id=aid)
    assert "errors" not in body, body
    assert body["data"]["agreement"]["employee"]["displayName"] == UNREADABLE
    hr = sign_in(api.client, api.secret, w.ids["hr"], Role.HR)
    people = hr.get("/people")
    assert people.status_code == 200, people.text
    assert UNREADABLE in people.text
    assert hr.get(f"/agreements/{agreement_uuid(aid)}").status_code == 200
    _, problems = audit.verify_keys(api.container.store, api.container.keys.store)
    assert [(p.subject_id, p.kind) for p in problems] == [(employee, "KEY_DAMAGED")]


def test_an_erased_persons_destroyed_key_is_no_problem(api: Api) -> None:
    w = World(api)
    w.active()
    erase = """mutation($input: ErasePersonInput!) { erasePerson(input: $input) {
      userErrors { code } } }"""
    erased = api.data(w.hr, erase, input={"personId": w.ids["emp"], "reason": "Art. 17"})
    assert erased["erasePerson"]["userErrors"] == []
    _, problems = audit.verify_keys(api.container.store, api.container.keys.store)
    assert problems == []


def test_crafting_verify_reports_a_missing_key_and_raises_an_alarm(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = sqlite_api
    w = World(api)
    w.active()
    monkeypatch.setenv("CRAFTING_DATABASE_URL", api.container.settings.database.url)
    runner = CliRunner()
    clean = runner.invoke(cli, ["verify"])
    assert clean.exit_code == 0, clean.output
    assert "data keys: every missing one was erased, the rest unwrap" in clean.output
    _set_wrapped(api, w.ids["mate"], None)
    found = runner.invoke(cli, ["verify"])
    assert found.exit_code == 1, found.output
    assert f"DATA KEY MISSING: the key of {w.ids['mate']}" in found.output
    with api.container.engines.reader.connect() as conn:
        opened = alarms.open_alarms(conn)
    assert [a.kind for a in opened] == ["key.missing"]
    assert w.ids["mate"] not in opened[0].subject + opened[0].detail  # key id only
