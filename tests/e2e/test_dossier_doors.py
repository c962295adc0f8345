"""The promotion dossier through its doors: GraphQL's `dossier` gives the download address
to the employee, their manager and HR only; the download (bearer token) and the web app's
button (signed in, CSRF-checked) answer with a PDF that verifies offline, and each
download is a `DossierIssued` event in the agreement's audit log."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

import pytest

from api.graphql.ids import agreement_uuid
from domain.dossier.check import check_dossier, read_pdf
from domain.values import Role
from infra.signing import new_private_key, public_key_b64, signing_key
from tests.e2e.conftest import Api, serving
from tests.e2e.web import sign_in
from tests.e2e.world import World

pytestmark = pytest.mark.pdf  # skipped without pango, except in CI

DOSSIER = (
    """query($id: ID!) { dossier(agreementId: $id) { agreementId url contentType verifyWith } }"""
)
ISSUED = """query($id: ID!) { auditLog(first: 10, filter: {agreementId: $id, types: ["DossierIssued"]}) {
  edges { node { type actorId payload } } } }"""

KEY = new_private_key()  # the service signs checkpoints (on PostgreSQL only when given one)


@pytest.fixture(scope="module")
def api(module_database_url: str) -> Iterator[Api]:
    """Shared by the module's tests (each makes its own people: tests.e2e.shared)."""
    with serving(module_database_url, signing_key=KEY) as served:
        yield served


ACCESS = [
    ("employee", True),
    ("manager", True),
    ("hr", True),
    ("other_manager", False),
    ("stranger", False),
    ("auditor", False),
    ("integration", False),
]


def _verifies(api: Api, pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF")
    key = public_key_b64(signing_key(api.container.settings))
    outcome = check_dossier(*read_pdf(pdf), key)
    assert outcome.ok, outcome.problems


@pytest.mark.parametrize(("who", "allowed"), ACCESS)
def test_the_dossier_field_and_download_follow_who_may_have_it(
    api: Api, who: str, allowed: bool
) -> None:
    world = World(api)
    gid = world.active()["id"]
    token = getattr(world, who)
    body = api.gql(token, DOSSIER, id=gid)
    download = api.client.get(
        f"/dossiers/{agreement_uuid(gid)}", headers={"Authorization": f"Bearer {token}"}
    )
    if not allowed:
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert download.status_code == 403
        assert download.headers["content-type"].startswith("application/json")
        return
    found = body["data"]["dossier"]
    assert found["url"] == f"/dossiers/{agreement_uuid(gid)}"
    assert found["contentType"] == "application/pdf"
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    _verifies(api, download.content)

    world.sync()  # the read models include the issue
    nodes = [e["node"] for e in api.data(world.hr, ISSUED, id=gid)["auditLog"]["edges"]]
    assert len(nodes) == 1 and nodes[0]["type"] == "DossierIssued"
    assert nodes[0]["payload"]["issuedTo"] == nodes[0]["actorId"]


def test_the_download_needs_a_valid_token_and_an_agreement_id(api: Api) -> None:
    world = World(api)
    aid = agreement_uuid(world.active()["id"])
    assert api.client.get(f"/dossiers/{aid}").status_code == 401
    bad = api.client.get(f"/dossiers/{aid}", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    malformed = api.client.get(
        "/dossiers/not-an-id", headers={"Authorization": f"Bearer {world.employee}"}
    )
    assert malformed.status_code == 403  # the same as an agreement they may not see
    missing = "00000000-0000-4000-8000-000000000000"
    hr = api.client.get(f"/dossiers/{missing}", headers={"Authorization": f"Bearer {world.hr}"})
    assert hr.status_code == 404 and "No agreement" in hr.json()["detail"]


def test_the_web_button_downloads_the_dossier_for_employee_manager_and_hr(api: Api) -> None:
    world = World(api)
    aid = agreement_uuid(world.active()["id"])
    world.sync()
    roles = {
        "emp": (Role.EMPLOYEE,),
        "mgr": (Role.MANAGER, Role.EMPLOYEE),
        "hr": (Role.HR,),
        "stranger": (Role.EMPLOYEE,),
    }
    for who, their_roles in roles.items():
        client = sign_in(api.client, api.secret, world.ids[who], *their_roles)
        page = client.get(f"/agreements/{aid}")
        form = f'action="/agreements/{aid}/dossier"'
        if who == "stranger":
            assert page.status_code == 404 and form not in page.text
            token = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
            csrf = _csrf(token.get(f"/agreements/{aid}").text, aid)
            refused = client.post(f"/agreements/{aid}/dossier", data={"csrf_token": csrf})
            assert refused.status_code in (403, 404)  # not theirs: nothing issued
            continue
        assert form in page.text and "Download the promotion dossier (PDF)" in page.text
        csrf = _csrf(page.text, aid)
        assert client.post(f"/agreements/{aid}/dossier", data={}).status_code == 403
        got = client.post(f"/agreements/{aid}/dossier", data={"csrf_token": csrf})
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "application/pdf"
        _verifies(api, got.content)
        assert BytesIO(got.content).read(4) == b"%PDF"
    auditor = sign_in(api.client, api.secret, f"auditor-{world.s}", Role.AUDITOR)
    assert f'action="/agreements/{aid}/dossier"' not in auditor.get(f"/agreements/{aid}").text


def _csrf(html: str, aid: object) -> str:
    start = html.index(f'action="/agreements/{aid}/dossier"')
    form = html[start : html.index("</form>", start)]
    marker = 'name="csrf_token" value="'
    at = form.index(marker) + len(marker)
    return form[at : form.index('"', at)]


@pytest.mark.postgres
def test_without_a_checkpoint_covering_it_the_download_says_when_to_retry(
    postgres_url: str,
) -> None:
    with serving(postgres_url) as api:  # no signing key here: nothing signs a checkpoint
        world = World(api)
        aid = agreement_uuid(world.active()["id"])
        before = api.position()
        answer = api.client.get(
            f"/dossiers/{aid}", headers={"Authorization": f"Bearer {world.employee}"}
        )
        assert answer.status_code == 409
        assert answer.headers["retry-after"] == "10"
        assert answer.json()["code"] == "NOT_YET_CHECKPOINTED"
        assert api.position() == before  # nothing issued, nothing recorded


PERSON_DOSSIER = """query($id: ID!) { personDossier(personId: $id) {
  personId agreementCount url contentType verifyWith } }"""


@pytest.mark.parametrize(("who", "allowed"), ACCESS)
def test_the_person_dossier_field_and_download_follow_who_may_have_it(
    api: Api, who: str, allowed: bool
) -> None:
    world = World(api)
    gid = world.active()["id"]
    world.sync()  # the person's agreements are listed from the read models
    person = world.ids["emp"]
    token = getattr(world, who)
    body = api.gql(token, PERSON_DOSSIER, id=person)
    download = api.client.get(
        f"/dossiers/people/{person}", headers={"Authorization": f"Bearer {token}"}
    )
    if not allowed:
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert download.status_code == 403
        assert download.headers["content-type"].startswith("application/json")
        return
    found = body["data"]["personDossier"]
    assert found == {
        "personId": person,
        "agreementCount": 1,
        "url": f"/dossiers/people/{person}",
        "contentType": "application/pdf",
        "verifyWith": found["verifyWith"],
    }
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/pdf"
    assert f'filename="dossier-person-{person}.pdf"' in download.headers["content-disposition"]
    _verifies(api, download.content)
    world.sync()
    nodes = [e["node"] for e in api.data(world.hr, ISSUED, id=gid)["auditLog"]["edges"]]
    assert [n["type"] for n in nodes] == ["DossierIssued"]


def test_the_person_download_needs_a_valid_token_and_someone_with_agreements(api: Api) -> None:
    world = World(api)
    world.active()
    world.sync()
    person = world.ids["emp"]
    assert api.client.get(f"/dossiers/people/{person}").status_code == 401
    nobody = f"nobody-{world.s}"
    hr = {"Authorization": f"Bearer {world.hr}"}
    missing = api.client.get(f"/dossiers/people/{nobody}", headers=hr)
    assert missing.status_code == 404 and "no agreements" in missing.json()["detail"]
    body = api.gql(world.hr, PERSON_DOSSIER, id=nobody)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    employee = {"Authorization": f"Bearer {world.employee}"}
    assert api.client.get(f"/dossiers/people/{nobody}", headers=employee).status_code == 403
    bad = api.gql(world.hr, PERSON_DOSSIER, id="not a person id!")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
