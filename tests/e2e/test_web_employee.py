"""The employee's web pages over HTTP (in-process, both databases): proposing (with
several adjustments, with and without script), revising after the manager asked for
changes, recording artifacts, and career evidence — each refusing whoever may not, as
the same 404, with nothing recorded."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.web import hidden_fields, sign_in
from tests.e2e.world import World

VERSION = "query($id: ID!) { agreement(id: $id) { version status title } }"
THEIRS = """query($e: String!) { agreements(first: 50, filter: {employeeId: $e}) {
  edges { node { id title adjustments { kind hoursPerWeek } } } } }"""
REQUEST_CHANGES = """mutation($id: ID!, $why: String!) {
  requestChanges(input: {agreementId: $id, reason: $why}) { userErrors { code } } }"""
NOWHERE = "00000000-0000-4000-8000-000000000000"


def _proposal(**overrides: str) -> dict[str, str]:
    return {
        "title": "Tester to product owner",
        "careerGoal.targetRole": "Product owner",
        "careerGoal.skills": "backlog refinement, stakeholder interviews",
        "careerGoal.targetDate": "2027-06-30",
        "adjustments[0].kind": "TASK",
        "adjustments[0].description": "Write the acceptance criteria of one story a week",
        "adjustments[0].hoursPerWeek": "2",
        "adjustments[1].kind": "RELATIONAL",
        "adjustments[1].description": "Sit in on customer calls",
        "adjustments[1].hoursPerWeek": "1.5",
        "adjustments[1].startsOn": "2026-09-01",
        **overrides,
    }


def _agreements_of(api: Api, world: World, employee: str) -> list[dict[str, Any]]:
    world.sync()
    edges = api.data(world.hr, THEIRS, e=employee)["agreements"]["edges"]
    return [e["node"] for e in edges]


def _new_form(client: TestClient) -> dict[str, str]:
    page = client.get("/agreements/new")
    assert page.status_code == 200
    return hidden_fields(page.text, "/agreements/new")


def _error_of(html: str, field_id: str) -> str:
    """The error shown next to the field, which names it (aria-describedby)."""
    field = re.search(rf'<(?:input|select|textarea) id="{field_id}"[^>]*>', html)
    assert field is not None, field_id
    assert 'aria-invalid="true"' in field.group(0)
    assert f"{field_id}-error" in field.group(0)
    found = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    assert found is not None
    return found.group(1)


def test_an_employee_proposes_with_two_adjustments_once_per_rendered_form(api: Api) -> None:
    world = World(api)
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    fields = _new_form(employee)
    assert set(fields) == {"csrf_token", "idempotency_key"}
    first = employee.post("/agreements/new", data=fields | _proposal())
    second = employee.post("/agreements/new", data=fields | _proposal())
    assert first.status_code == second.status_code == 303
    assert first.headers["location"].split("?")[0] == second.headers["location"].split("?")[0]
    (proposed,) = _agreements_of(api, world, world.ids["emp"])  # one agreement
    assert proposed["title"] == "Tester to product owner"
    assert proposed["adjustments"] == [
        {"kind": "TASK", "hoursPerWeek": 2.0},
        {"kind": "RELATIONAL", "hoursPerWeek": 1.5},
    ]
    page = employee.get(first.headers["location"])
    assert f"/agreements/{agreement_uuid(proposed['id'])}" in first.headers["location"]
    assert "Your change is recorded" in page.text
    for shown in ("Tester to product owner", "Sit in on customer calls", "relational"):
        assert shown in page.text
    assert "Revise the proposal" in page.text


def test_a_proposal_the_rules_refuse_shows_why_next_to_the_field_and_records_nothing(
    api: Api,
) -> None:
    world = World(api)
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    fields = _new_form(employee)
    before = api.position()
    cases = [
        (
            {"adjustments[1].kind": "SIDE_QUEST"},
            "f-adjustments-1-kind",
            "Adjustment 2: kind must be one of the choices offered.",
        ),
        ({"adjustments[0].hoursPerWeek": "-3"}, "f-adjustments-0-hoursPerWeek", "zero or more"),
        ({"adjustments[1].hoursPerWeek": "500"}, "f-adjustments-1-hoursPerWeek", "at most 40"),
        ({"adjustments[0].hoursPerWeek": "lots"}, "f-adjustments-0-hoursPerWeek", "a number"),
        ({"adjustments[1].startsOn": "soon"}, "f-adjustments-1-startsOn", "a date"),
        ({"title": "x" * 201}, "f-title", "Title must be at most 200 characters."),
        ({"careerGoal.targetRole": " "}, "f-careerGoal-targetRole", "must not be empty"),
        ({"careerGoal.skills": "ok, " + "y" * 101}, "f-careerGoal-skills", "at most 100"),
        # A blank first row is left out: the domain's adjustments[0] is the form's row 1.
        (
            {
                "adjustments[0].description": "",
                "adjustments[0].hoursPerWeek": "",
                "adjustments[1].hoursPerWeek": "0.3",
            },
            "f-adjustments-1-hoursPerWeek",
            "quarter hour",
        ),
    ]
    for change, field_id, message in cases:
        response = employee.post("/agreements/new", data=fields | _proposal(**change))
        assert response.status_code == 422, change
        assert message in _error_of(response.text, field_id), change
        assert 'id="error-summary"' in response.text
        # What was typed is still there.
        assert "Sit in on customer calls" in response.text
    assert api.position() == before
    assert _agreements_of(api, world, world.ids["emp"]) == []


def test_another_adjustment_row_with_or_without_script(api: Api) -> None:
    world = World(api)
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    fields = _new_form(employee)
    before = api.position()
    # Without script, the button posts the form: it comes back one row longer.
    longer = employee.post("/agreements/new", data=fields | _proposal() | {"more": "1"})
    assert longer.status_code == 200
    assert 'id="f-adjustments-2-kind"' in longer.text and "autofocus" in longer.text
    assert "Sit in on customer calls" in longer.text
    assert api.position() == before
    # With htmx, the row alone, and the button for the next one (out of band).
    row = employee.get("/agreements/new/row?index=2")
    assert row.status_code == 200
    assert "<legend>Adjustment 3</legend>" in row.text
    assert 'hx-swap-oob="true"' in row.text and "index=3" in row.text
    assert "<html" not in row.text
    for bad in ("20", "x", ""):
        assert employee.get(f"/agreements/new/row?index={bad}").status_code == 404


def test_hr_may_propose_for_an_employee_and_an_employee_only_for_themselves(api: Api) -> None:
    world = World(api)
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    fields = _new_form(employee)
    assert 'name="employeeId"' not in employee.get("/agreements/new").text
    before = api.position()
    sent = fields | _proposal(employeeId=world.ids["mate"])
    refused = employee.post("/agreements/new", data=sent)
    assert refused.status_code == 404 and "Not found" in refused.text
    assert api.position() == before
    hr = sign_in(api.client, api.secret, world.ids["hr"], Role.HR)
    form = hr.get("/agreements/new").text
    assert 'name="employeeId"' in form
    sent = hidden_fields(form, "/agreements/new") | _proposal(employeeId=world.ids["mate"])
    assert hr.post("/agreements/new", data=sent).status_code == 303
    assert len(_agreements_of(api, world, world.ids["mate"])) == 1
    # An id nobody has: the domain's message by the field.
    sent = _new_form(hr) | _proposal(employeeId="nobody-here")
    unknown = hr.post("/agreements/new", data=sent)
    assert unknown.status_code == 422
    assert "nobody-here" in _error_of(unknown.text, "f-employeeId")


def test_a_proposal_needs_the_sessions_csrf_token(api: Api) -> None:
    world = World(api)
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    fields = _new_form(employee)
    before = api.position()
    for sent in ({"idempotency_key": fields["idempotency_key"]}, fields | {"csrf_token": "0"}):
        refused = employee.post("/agreements/new", data=sent | _proposal())
        assert refused.status_code == 403
    assert api.position() == before


def _changes_requested(api: Api) -> tuple[World, TestClient, str]:
    world = World(api)
    aid = str(agreement_uuid(world.propose()["id"]))
    payload = api.data(world.manager, REQUEST_CHANGES, id=aid, why="Say which customers, please")
    assert payload["requestChanges"]["userErrors"] == []
    world.sync()
    return world, sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE), aid


def test_an_employee_revises_a_proposal_the_manager_asked_changes_of(api: Api) -> None:
    world, employee, aid = _changes_requested(api)
    shown = employee.get(f"/agreements/{aid}").text
    assert "asked for changes" in shown
    assert f'href="/agreements/{aid}/revise"' in shown
    page = employee.get(f"/agreements/{aid}/revise")
    assert page.status_code == 200
    assert "Say which customers, please" in page.text  # the manager's reason
    assert 'value="Tester to product manager"' in page.text  # prefilled
    assert 'value="Write one feature brief"' not in page.text  # a textarea's text
    assert ">Write one feature brief</textarea>" in page.text
    fields = hidden_fields(page.text, f"/agreements/{aid}/revise")
    assert set(fields) == {"csrf_token", "idempotency_key", "expected_version"}
    version = int(fields["expected_version"])
    sent = fields | _proposal(title="Tester to product owner, revised")
    first = employee.post(f"/agreements/{aid}/revise", data=sent)
    second = employee.post(f"/agreements/{aid}/revise", data=sent)
    assert first.status_code == second.status_code == 303
    world.sync()
    after = api.data(world.hr, VERSION, id=aid)["agreement"]
    assert after == {
        "version": version + 1,
        "status": "PROPOSED",
        "title": "Tester to product owner, revised",
    }
    revised = employee.get(first.headers["location"]).text
    assert "Sit in on customer calls" in revised and "Write one feature brief" not in revised


def test_a_revision_on_a_stale_page_is_a_conflict_even_after_an_error(api: Api) -> None:
    _, employee, aid = _changes_requested(api)
    url = f"/agreements/{aid}/revise"
    fields = hidden_fields(employee.get(url).text, url)
    # The employee revises in another tab: this page is now stale.
    other = hidden_fields(employee.get(url).text, url)
    revised = employee.post(url, data=other | _proposal())
    assert revised.status_code == 303
    employee.get(revised.headers["location"])  # waits for the read models to include it
    before = api.position()
    # A value the form cannot read comes back with the version the page showed, not
    # the latest: fixing it must not overwrite the other tab's revision unseen.
    bad = employee.post(url, data=fields | _proposal(**{"adjustments[0].hoursPerWeek": "two"}))
    assert bad.status_code == 422
    assert "must be a number" in _error_of(bad.text, "f-adjustments-0-hoursPerWeek")
    assert "Say which customers, please" not in bad.text  # revised: no longer requested
    kept = hidden_fields(bad.text, url)
    assert kept["expected_version"] == fields["expected_version"]
    stale = employee.post(url, data=kept | _proposal(title="Late"))
    assert stale.status_code == 409
    assert "This agreement changed since you opened it" in stale.text
    assert api.position() == before


def test_only_the_employee_or_hr_revises_and_only_a_proposal(api: Api) -> None:
    world, employee, aid = _changes_requested(api)
    fields = hidden_fields(
        employee.get(f"/agreements/{aid}/revise").text, f"/agreements/{aid}/revise"
    )
    before = api.position()
    refused = []
    for sub, roles in (
        (world.ids["mate"], (Role.EMPLOYEE,)),
        (world.ids["mgr"], (Role.MANAGER, Role.EMPLOYEE)),
        (world.ids["mgr2"], (Role.MANAGER, Role.EMPLOYEE)),
        (f"auditor-{world.s}", (Role.AUDITOR,)),
    ):
        other = sign_in(api.client, api.secret, sub, *roles)
        token = hidden_fields(other.get("/").text, "/logout")["csrf_token"]
        refused.append(other.get(f"/agreements/{aid}/revise"))
        refused.append(
            other.post(
                f"/agreements/{aid}/revise", data=fields | {"csrf_token": token} | _proposal()
            )
        )
    refused.append(employee.get(f"/agreements/{NOWHERE}/revise"))
    refused.append(employee.post(f"/agreements/{NOWHERE}/revise", data=fields | _proposal()))
    refused.append(employee.get("/agreements/not-an-id/revise"))
    assert {r.status_code for r in refused} == {404}
    assert len({r.text.split("<main")[1] for r in refused}) == 1
    assert api.position() == before
    # HR may (on the employee's side).
    hr = sign_in(api.client, api.secret, world.ids["hr"], Role.HR)
    page = hr.get(f"/agreements/{aid}/revise").text
    sent = hidden_fields(page, f"/agreements/{aid}/revise") | _proposal()
    assert hr.post(f"/agreements/{aid}/revise", data=sent).status_code == 303
    # An active agreement is no proposal: its page instead.
    active = str(agreement_uuid(world.active()["id"]))
    world.sync()
    moved = employee.get(f"/agreements/{active}/revise")
    assert moved.status_code == 303 and moved.headers["location"] == f"/agreements/{active}"


def _artifact_form(api: Api) -> tuple[World, TestClient, str, dict[str, str]]:
    world = World(api)
    aid = str(agreement_uuid(world.active()["id"]))
    world.sync()
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    page = employee.get(f"/agreements/{aid}").text
    return world, employee, aid, hidden_fields(page, f"/agreements/{aid}/artifacts")


ARTIFACT = {
    "title": "Feature brief: bulk export",
    "kind": "BRIEF",
    "url": "https://wiki.example.com/bulk-export",
    "skills": "customer research, writing",
}


def test_employee_and_manager_record_artifacts_once_per_rendered_form(api: Api) -> None:
    world, employee, aid, fields = _artifact_form(api)
    assert set(fields) == {"csrf_token", "idempotency_key", "expected_version"}
    before = api.data(world.hr, VERSION, id=aid)["agreement"]["version"]
    first = employee.post(f"/agreements/{aid}/artifacts", data=fields | ARTIFACT)
    second = employee.post(f"/agreements/{aid}/artifacts", data=fields | ARTIFACT)
    assert first.status_code == second.status_code == 303
    world.sync()
    assert api.data(world.hr, VERSION, id=aid)["agreement"]["version"] == before + 1
    page = employee.get(first.headers["location"]).text
    assert '<a href="https://wiki.example.com/bulk-export" rel="noopener noreferrer">' in page
    assert "customer research, writing" in page
    manager = sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    form = hidden_fields(manager.get(f"/agreements/{aid}").text, f"/agreements/{aid}/artifacts")
    sent = form | ARTIFACT | {"title": "Demo of the export", "kind": "DEMO", "url": ""}
    assert manager.post(f"/agreements/{aid}/artifacts", data=sent).status_code == 303
    world.sync()
    page = employee.get(f"/agreements/{aid}").text
    assert "Demo of the export" in page and world.ids["mgr"].title() in page  # by name


def test_an_artifact_the_rules_refuse_shows_why_by_its_field(api: Api) -> None:
    _, employee, aid, fields = _artifact_form(api)
    before = api.position()
    for change, field_id, message in (
        ({"url": "javascript:alert(1)"}, "f-url", "http or https URL"),
        ({"kind": "POEM"}, "f-kind", "Kind must be one of the choices offered."),
        ({"title": "t" * 201}, "f-title", "at most 200 characters"),
        ({"skills": "fine, " + "s" * 101}, "f-skills", "at most 100 characters"),
    ):
        response = employee.post(f"/agreements/{aid}/artifacts", data=fields | ARTIFACT | change)
        assert response.status_code == 422, change
        assert message in _error_of(response.text, field_id), change
    assert api.position() == before


def test_who_may_not_record_an_artifact_gets_the_404_and_nothing_is_recorded(api: Api) -> None:
    world, employee, aid, fields = _artifact_form(api)
    before = api.position()
    refused = []
    for sub, roles in (
        (world.ids["mate"], (Role.EMPLOYEE,)),
        (world.ids["mgr2"], (Role.MANAGER, Role.EMPLOYEE)),
        (f"auditor-{world.s}", (Role.AUDITOR,)),
    ):
        other = sign_in(api.client, api.secret, sub, *roles)
        token = hidden_fields(other.get("/").text, "/logout")["csrf_token"]
        sent = fields | ARTIFACT | {"csrf_token": token}
        refused.append(other.post(f"/agreements/{aid}/artifacts", data=sent))
        if other.get(f"/agreements/{aid}").status_code == 200:  # the auditor reads it
            assert "Record an artifact" not in other.get(f"/agreements/{aid}").text
    refused.append(employee.post(f"/agreements/{NOWHERE}/artifacts", data=fields | ARTIFACT))
    assert {r.status_code for r in refused} == {404}
    missing = employee.post(
        f"/agreements/{aid}/artifacts",
        data={k: v for k, v in fields.items() if k != "csrf_token"} | ARTIFACT,
    )
    assert missing.status_code == 403
    assert api.position() == before


def test_career_evidence_for_the_person_and_whoever_may_read_them(api: Api) -> None:
    world, employee, aid, fields = _artifact_form(api)
    assert employee.post(f"/agreements/{aid}/artifacts", data=fields | ARTIFACT).status_code == 303
    world.sync()
    mine = employee.get("/career")
    assert mine.status_code == 200
    assert "My career evidence" in mine.text
    for shown in ("Feature brief: bulk export", "customer research", "Tester to product manager"):
        assert shown in mine.text
    assert 'role="img"' in mine.text and "<title" in mine.text  # the chart, with its table
    path = f"/people/{world.ids['emp']}/career"
    for sub, roles in (
        (world.ids["mgr"], (Role.MANAGER, Role.EMPLOYEE)),
        (world.ids["hr"], (Role.HR,)),
        (f"auditor-{world.s}", (Role.AUDITOR,)),
    ):
        reader = sign_in(api.client, api.secret, sub, *roles)
        page = reader.get(path)
        assert page.status_code == 200, sub
        assert f"Career evidence of {world.ids['emp'].title()}" in page.text
        assert "Feature brief: bulk export" in page.text
    refused = [
        sign_in(api.client, api.secret, world.ids["mate"], Role.EMPLOYEE).get(path),
        sign_in(api.client, api.secret, world.ids["mgr2"], Role.MANAGER).get(path),
        employee.get("/people/nobody-here/career"),
        # Their own manager: readable as a person, but their career is not the employee's.
        employee.get(f"/people/{world.ids['mgr']}/career"),
    ]
    assert {r.status_code for r in refused} == {404}
    assert len({r.text.split("<main")[1] for r in refused}) == 1
