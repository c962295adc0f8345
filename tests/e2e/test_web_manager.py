"""The manager's web pages over HTTP (in-process, both databases): the inbox, every
manager action on the agreement page, the live fairness check, reverts and the
preview of a revert to a version, and the team's workload chart."""

from __future__ import annotations

import re
import threading
from html import unescape
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.web import CONFIRMED, hidden_fields, sign_in
from tests.e2e.world import World

AGREEMENT = """query($id: ID!) { agreement(id: $id) { version status
  guardrails { maxDevelopmentHoursPerWeek reviewEveryDays protectedResponsibilities }
  adjustments { description status } reallocations { task toPersonId status }
  reviews { outcome } } }"""
REQUEST_CHANGES = """mutation($id: ID!) { requestChanges(input: {agreementId: $id,
  reason: "More detail"}) { userErrors { code } } }"""
REALLOCATE = """mutation($input: ReallocateTaskInput!) { reallocateTask(input: $input) {
  agreement { version } userErrors { code } } }"""


def _manager(api: Api, world: World) -> TestClient:
    return sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)


def _state(api: Api, world: World, aid: str) -> dict[str, Any]:
    """The agreement as the read models have it once they include every write so far
    (a form's 303 answers before the projector has run)."""
    world.sync()
    found: dict[str, Any] = api.data(world.hr, AGREEMENT, id=aid)["agreement"]
    return found


def _submit(
    client: TestClient, aid: str, action: str, values: dict[str, str], url: str | None = None
) -> Any:
    """Open the agreement page and send the form posting to `url` (the action's)."""
    target = url or f"/agreements/{aid}/{action}"
    page = client.get(f"/agreements/{aid}")
    assert page.status_code == 200, page.text
    fields = hidden_fields(page.text, target)
    return client.post(target, data=fields | values | CONFIRMED)


def _field_error(html: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', html)
    assert found, html
    assert f'aria-describedby="{field_id}-error"' in html
    return unescape(found.group(1))


def test_inbox_shows_what_awaits_the_manager_and_nothing_of_another_team(api: Api) -> None:
    world = World(api)
    proposed = world.propose()
    asked = world.propose(world.mate)
    api.data(world.manager, REQUEST_CHANGES, id=asked["id"])
    active = world.active()  # its next review is due in 14 days
    theirs = world.propose(world.stranger)
    world.sync()
    page = _manager(api, world).get("/inbox")
    assert page.status_code == 200
    html = page.text
    ids = {
        k: str(agreement_uuid(v["id"]))
        for k, v in (
            ("proposed", proposed),
            ("asked", asked),
            ("active", active),
            ("theirs", theirs),
        )
    }
    sections = re.split(r'<h2 id="', html)
    by_id = {s.split('"', 1)[0]: s for s in sections[1:]}
    assert ids["proposed"] in by_id["awaiting"] and ids["active"] not in by_id["awaiting"]
    assert ids["asked"] in by_id["changes-requested"]
    assert ids["active"] in by_id["reviews-due"]
    assert "Approved" in by_id["activity-heading"] and "More detail" in by_id["activity-heading"]
    assert ids["theirs"] not in html and world.ids["stranger"].title() not in html
    assert world.ids["emp"].title() in html  # shown by display name
    # The other team's manager sees theirs and none of ours.
    other = sign_in(api.client, api.secret, world.ids["mgr2"], Role.MANAGER).get("/inbox").text
    assert ids["theirs"] in other and ids["proposed"] not in other
    # HR sees everyone's; an employee or an auditor has no inbox.
    assert ids["theirs"] in sign_in(api.client, api.secret, "hr-x", Role.HR).get("/inbox").text
    for role in (Role.EMPLOYEE, Role.AUDITOR):
        assert (
            sign_in(api.client, api.secret, world.ids["emp"], role).get("/inbox").status_code == 404
        )
    assert 'href="/inbox"' in page.text
    assert 'href="/inbox"' not in sign_in(api.client, api.secret, "e", Role.EMPLOYEE).get("/").text


def test_the_inbox_reads_in_the_same_number_of_queries_however_many_reports(api: Api) -> None:
    world = World(api)
    world.propose()
    world.sync()
    manager = _manager(api, world)
    engine = api.container.engines.reader
    statements: list[tuple[int, str]] = []

    def count(*args: Any) -> None:
        statements.append((threading.get_ident(), str(args[2])))

    def queries() -> list[str]:
        """The statements of the page's read (one worker thread; the projector and the
        session check run beside it)."""
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert manager.get("/inbox").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        reader = next(t for t, sql in statements if "audit_log" in sql and "DESC" in sql)
        mine = [sql for t, sql in statements if t == reader]
        # The worker thread may also have run the header's name lookup: keep the one read
        # (`Reads.run`: it starts by reading the live generation; beside the session, the
        # session's statement reads it) holding the inbox's, the session's left out.
        starts = [i for i, sql in enumerate(mine) if "crafting_projection_state" in sql]
        runs = [mine[a:b] for a, b in zip(starts, [*starts[1:], len(mine)], strict=True)]
        run = next(r for r in runs if any("audit_log" in sql and "DESC" in sql for sql in r))
        return [sql for sql in run if "used_tokens" not in sql]

    few = queries()
    more = [f"report{i}-{world.s}" for i in range(6)]
    world.upsert([(pid, world.ids["mgr"], world.team) for pid in more])
    for pid in more:
        world.propose(api.token(pid, Role.EMPLOYEE))
    world.active()
    world.sync()
    many = queries()
    assert len(many) == len(few), (few, many)
    assert len(few) <= 10


def test_approve_with_guardrails_records_once_per_rendered_form(api: Api) -> None:
    world = World(api)
    aid = str(agreement_uuid(world.propose()["id"]))
    world.sync()
    manager = _manager(api, world)
    page = manager.get(f"/agreements/{aid}").text
    fields = hidden_fields(page, f"/agreements/{aid}/approve")
    assert set(fields) == {"csrf_token", "idempotency_key", "expected_version"}
    for label in ("Most development hours per week", "Review every (days)", "Ends on (optional)"):
        assert label in page
    sent = fields | {
        "guardrails.maxDevelopmentHoursPerWeek": "5",
        "guardrails.reviewEveryDays": "21",
        "guardrails.protectedResponsibilities": "Release sign-off, On-call",
    }
    first = manager.post(f"/agreements/{aid}/approve", data=sent)
    second = manager.post(f"/agreements/{aid}/approve", data=sent)
    assert first.status_code == second.status_code == 303
    state = _state(api, world, aid)
    assert state["version"] == 2 and state["status"] == "ACTIVE"
    assert state["guardrails"] == {
        "maxDevelopmentHoursPerWeek": 5.0,
        "reviewEveryDays": 21,
        "protectedResponsibilities": ["Release sign-off", "On-call"],
    }
    shown = manager.get(first.headers["location"]).text
    assert "Your change is recorded" in shown and "Reallocate a task" in shown


def test_a_guardrail_below_the_proposed_hours_is_refused_next_to_its_field(api: Api) -> None:
    world = World(api)
    aid = str(agreement_uuid(world.propose()["id"]))  # 2 hours proposed
    world.sync()
    before = api.position()
    response = _submit(
        _manager(api, world),
        aid,
        "approve",
        {"guardrails.maxDevelopmentHoursPerWeek": "1", "guardrails.reviewEveryDays": "14"},
    )
    assert response.status_code == 422
    message = _field_error(response.text, "approve-guardrails-maxDevelopmentHoursPerWeek")
    assert "above the guardrail of 1" in message
    assert 'value="1"' in response.text  # the value sent is shown again
    assert api.position() == before
    bad_days = _submit(
        _manager(api, world),
        aid,
        "approve",
        {"guardrails.maxDevelopmentHoursPerWeek": "4", "guardrails.reviewEveryDays": "soon"},
    )
    assert bad_days.status_code == 422
    assert "whole number" in _field_error(bad_days.text, "approve-guardrails-reviewEveryDays")
    assert api.position() == before


def test_each_manager_action_records_through_its_form(api: Api) -> None:
    world = World(api)
    manager = _manager(api, world)
    proposed = str(agreement_uuid(world.propose()["id"]))
    rejected = str(agreement_uuid(world.propose()["id"]))
    aid = str(agreement_uuid(world.active()["id"]))
    world.sync()
    steps: list[tuple[str, str, dict[str, str], Any]] = [
        (
            proposed,
            "request-changes",
            {"reason": "Say more"},
            lambda s: s["status"] == "CHANGES_REQUESTED",
        ),
        (rejected, "reject", {"reason": "Not now"}, lambda s: s["status"] == "REJECTED"),
        (
            aid,
            "adjust",
            {
                "adjustment.kind": "RELATIONAL",
                "adjustment.description": "Shadow a PM",
                "adjustment.hoursPerWeek": "1.5",
            },
            lambda s: {"description": "Shadow a PM", "status": "ACTIVE"} in s["adjustments"],
        ),
        (
            aid,
            "review",
            {"outcome": "AT_RISK", "notes": "Slow start"},
            lambda s: s["reviews"] == [{"outcome": "AT_RISK"}],
        ),
        (
            aid,
            "guardrails",
            {
                "guardrails.maxDevelopmentHoursPerWeek": "8",
                "guardrails.reviewEveryDays": "7",
                "guardrails.protectedResponsibilities": "Release sign-off",
            },
            lambda s: s["guardrails"]["maxDevelopmentHoursPerWeek"] == 8,
        ),
        (
            aid,
            "reallocate",
            {
                "task": "Regression runs",
                "hoursPerWeek": "2",
                "toPersonId": world.ids["mate"],
                "reason": "Time for briefs",
            },
            lambda s: (
                s["reallocations"]
                == [
                    {"task": "Regression runs", "toPersonId": world.ids["mate"], "status": "ACTIVE"}
                ]
            ),
        ),
        (aid, "pause", {"reason": "Release crunch"}, lambda s: s["status"] == "PAUSED"),
        (aid, "resume", {}, lambda s: s["status"] == "ACTIVE"),
        (aid, "complete", {}, lambda s: s["status"] == "COMPLETED"),
    ]
    for agreement, action, values, check in steps:
        response = _submit(manager, agreement, action, values)
        assert response.status_code == 303, (action, response.text)
        page = manager.get(response.headers["location"]).text  # waits for the read models
        assert "Your change is recorded" in page, action
        assert check(_state(api, world, agreement)), action


def test_a_reason_is_required_where_the_command_takes_one(api: Api) -> None:
    world = World(api)
    manager = _manager(api, world)
    proposed = str(agreement_uuid(world.propose()["id"]))
    aid = str(agreement_uuid(world.active()["id"]))
    world.sync()
    before = api.position()
    for agreement, action in ((proposed, "reject"), (proposed, "request-changes"), (aid, "pause")):
        response = _submit(manager, agreement, action, {"reason": "  "})
        assert response.status_code == 422, action
        assert (
            _field_error(response.text, f"{action}-reason")
            == "A reason is required for this action."
        )
    assert api.position() == before


def _with_reallocation(api: Api, world: World, hours: float) -> str:
    """An active agreement with `hours` of the employee's work given to the mate."""
    agreement = world.active()
    payload = api.data(
        world.manager,
        REALLOCATE,
        input={
            "agreementId": agreement["id"],
            "task": "Regression runs",
            "hoursPerWeek": hours,
            "toPersonId": world.ids["mate"],
            "reason": "Room to grow",
        },
    )["reallocateTask"]
    assert payload["userErrors"] == []
    return str(agreement_uuid(agreement["id"]))


def test_the_fairness_limit_is_checked_live_and_refuses_the_reallocation(api: Api) -> None:
    world = World(api)
    aid = _with_reallocation(api, world, 3)  # the mate receives 3 of 4 allowed
    world.sync()
    manager = _manager(api, world)
    page = manager.get(f"/agreements/{aid}").text
    assert f'hx-get="/agreements/{aid}/reallocate/check"' in page
    mate = world.ids["mate"].title()
    check = f"/agreements/{aid}/reallocate/check"
    over = manager.get(check, params={"toPersonId": world.ids["mate"], "hoursPerWeek": "2"})
    assert over.status_code == 200
    assert (
        f"{mate} receives 3 of 4 h/week allowed; this would make 5 — over the limit." in over.text
    )
    within = manager.get(check, params={"toPersonId": world.ids["mate"], "hoursPerWeek": "1"})
    assert "this would make 4 — within the limit" in within.text
    unknown = manager.get(check, params={"toPersonId": world.ids["stranger"], "hoursPerWeek": "1"})
    assert "Choose who receives" in unknown.text  # not one of theirs: nothing told
    assert "receives" not in unknown.text.replace("who receives", "")
    before = api.position()
    refused = _submit(
        manager,
        aid,
        "reallocate",
        {
            "task": "Bug triage",
            "hoursPerWeek": "2",
            "toPersonId": world.ids["mate"],
            "reason": "More room",
        },
    )
    assert refused.status_code == 422
    assert "can take 1 h more a week" in _field_error(refused.text, "reallocate-toPersonId")
    assert 'value="Bug triage"' in refused.text
    assert api.position() == before
    # Another team's manager gets no answer about this agreement.
    other = sign_in(api.client, api.secret, world.ids["mgr2"], Role.MANAGER)
    assert other.get(check, params={"toPersonId": world.ids["mate"]}).status_code == 404


def test_reverting_a_change_needs_a_reason_and_gives_the_hours_back(api: Api) -> None:
    world = World(api)
    aid = _with_reallocation(api, world, 3)
    world.sync()
    manager = _manager(api, world)
    page = manager.get(f"/agreements/{aid}").text
    assert "Changes in effect" in page and "Reallocation of “Regression runs”" in page
    change_ids = re.findall(r'name="changeId" value="([^"]+)"', page)
    assert len(change_ids) == 3  # guardrails on approval, the proposed adjustment, the reallocation
    state = _state(api, world, aid)
    target = next(
        c
        for c in change_ids
        if f"revert-{c}-label" in page
        and "Regression runs" in page.split(f'id="revert-{c}-label"')[1].split("</p>")[0]
    )
    fields = hidden_fields(page, f"/agreements/{aid}/revert")
    before = api.position()
    blank = manager.post(
        f"/agreements/{aid}/revert", data=fields | {"changeId": target, "reason": ""} | CONFIRMED
    )
    assert blank.status_code == 422
    assert (
        _field_error(blank.text, f"revert-{target}-reason")
        == "A reason is required for this action."
    )
    assert api.position() == before
    done = manager.post(
        f"/agreements/{aid}/revert",
        data=fields | {"changeId": target, "reason": "Mate is busy"} | CONFIRMED,
    )
    assert done.status_code == 303
    shown = manager.get(done.headers["location"]).text
    after = _state(api, world, aid)
    assert after["version"] == state["version"] + 1
    assert after["reallocations"][0]["status"] == "REVERTED"
    # The revert is itself a change in effect: reverting it re-applies the reallocation.
    assert "Revert of Reallocation of “Regression runs”" in shown


def test_a_revert_to_a_version_is_previewed_without_recording_then_confirmed(api: Api) -> None:
    world = World(api)
    aid = _with_reallocation(api, world, 2)  # version 3: approved at 2
    world.sync()
    manager = _manager(api, world)
    added = _submit(
        manager,
        aid,
        "adjust",
        {
            "adjustment.kind": "TASK",
            "adjustment.description": "Run a discovery interview",
            "adjustment.hoursPerWeek": "1",
        },
    )
    assert added.status_code == 303
    manager.get(added.headers["location"])  # waits for the read models
    before = api.position()
    preview = manager.get(f"/agreements/{aid}/revert-to", params={"version": "2"})
    assert preview.status_code == 200
    assert api.position() == before  # nothing recorded
    assert "This would revert 2 changes" in preview.text
    assert "Reallocation of “Regression runs”" in preview.text
    assert "Adjustment “Run a discovery interview”" in preview.text
    confirm = preview.text[preview.text.index('id="would-revert"') :]
    fields = hidden_fields(confirm, f"/agreements/{aid}/revert-to")
    assert fields["expected_version"] == "4" and fields["version"] == "2"
    no_reason = manager.post(f"/agreements/{aid}/revert-to", data=fields | {"reason": ""})
    assert no_reason.status_code == 422
    assert (
        _field_error(no_reason.text, "revert-to-reason") == "A reason is required for this action."
    )
    assert "This would revert 2 changes" in no_reason.text
    assert api.position() == before
    confirmed = manager.post(f"/agreements/{aid}/revert-to", data=fields | {"reason": "Start over"})
    assert confirmed.status_code == 303
    assert "Your change is recorded" in manager.get(confirmed.headers["location"]).text
    state = _state(api, world, aid)
    assert state["version"] == 6  # one revert per change, recorded together
    assert state["reallocations"][0]["status"] == "REVERTED"
    assert {"description": "Run a discovery interview", "status": "REVERTED"} in state[
        "adjustments"
    ]
    # The same confirmation again (a stale preview): the conflict, with the preview as now.
    again = manager.post(
        f"/agreements/{aid}/revert-to",
        data=fields | {"reason": "Start over"} | {"idempotency_key": "another-key"},
    )
    assert again.status_code == 409
    assert "changed since you opened it" in again.text
    bad = manager.get(f"/agreements/{aid}/revert-to", params={"version": "99"})
    assert bad.status_code == 422 and "version must be between" in _field_error(
        bad.text, "preview-version"
    )


ACTIONS = {
    "approve": {"guardrails.maxDevelopmentHoursPerWeek": "4", "guardrails.reviewEveryDays": "14"},
    "request-changes": {"reason": "More"},
    "reject": {"reason": "No"},
    "guardrails": {"guardrails.maxDevelopmentHoursPerWeek": "9", "guardrails.reviewEveryDays": "7"},
    "adjust": {
        "adjustment.kind": "TASK",
        "adjustment.description": "X",
        "adjustment.hoursPerWeek": "1",
    },
    "reallocate": {"task": "T", "hoursPerWeek": "1", "toPersonId": "x", "reason": "R"},
    "review": {"outcome": "ON_TRACK"},
    "pause": {"reason": "P"},
    "resume": {},
    "complete": {},
    "revert": {"changeId": "x", "reason": "R"},
    "revert-to": {"version": "2", "reason": "R"},
}


def test_anyone_but_the_manager_or_hr_gets_the_same_404_and_records_nothing(api: Api) -> None:
    world = World(api)
    proposed = str(agreement_uuid(world.propose()["id"]))
    active = str(agreement_uuid(world.active()["id"]))
    world.sync()
    # A real form's hidden fields (a valid CSRF token of each session comes from its page).
    outsiders = {
        "other manager": sign_in(
            api.client, api.secret, world.ids["mgr2"], Role.MANAGER, Role.EMPLOYEE
        ),
        "employee": sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE),
        "auditor": sign_in(api.client, api.secret, "auditor-x", Role.AUDITOR),
        "the employee as manager": sign_in(api.client, api.secret, world.ids["emp"], Role.MANAGER),
    }
    before = api.position()
    for who, client in outsiders.items():
        token = hidden_fields(client.get("/").text, "/logout")["csrf_token"]
        for aid in (proposed, active, "00000000-0000-4000-8000-000000000000", "not-an-id"):
            page = client.get(f"/agreements/{aid}").text
            assert "Manage this agreement" not in page, who
            for action, values in ACTIONS.items():
                sent = {
                    "csrf_token": token,
                    "idempotency_key": f"k-{action}",
                    "expected_version": "1",
                }
                response = client.post(f"/agreements/{aid}/{action}", data=sent | values)
                assert response.status_code == 404, (who, action, response.text)
                assert "There is nothing here that you can see." in response.text
            for path in ("revert-to?version=1", "reallocate/check?toPersonId=x&hoursPerWeek=1"):
                assert client.get(f"/agreements/{aid}/{path}").status_code == 404, (who, path)
    assert api.position() == before
    # HR acts as the manager does.
    hr = sign_in(api.client, api.secret, world.ids["hr"], Role.HR)
    assert "Manage this agreement" in hr.get(f"/agreements/{active}").text
    assert _submit(hr, active, "review", {"outcome": "ON_TRACK"}).status_code == 303


def test_manager_forms_need_the_csrf_token_and_a_fresh_version(api: Api) -> None:
    world = World(api)
    aid = str(agreement_uuid(world.active()["id"]))
    world.sync()
    manager = _manager(api, world)
    page = manager.get(f"/agreements/{aid}").text
    fields = hidden_fields(page, f"/agreements/{aid}/pause")
    before = api.position()
    for sent in (
        {k: v for k, v in fields.items() if k != "csrf_token"},
        fields | {"csrf_token": "0" * 64},
    ):
        refused = manager.post(f"/agreements/{aid}/pause", data=sent | {"reason": "Crunch"})
        assert refused.status_code == 403
    assert api.position() == before
    # The employee's manager reviews it elsewhere first: this page is stale.
    assert _submit(manager, aid, "review", {"outcome": "ON_TRACK"}).status_code == 303
    stale = manager.post(f"/agreements/{aid}/pause", data=fields | {"reason": "Crunch"} | CONFIRMED)
    assert stale.status_code == 409
    assert "This agreement changed since you opened it" in stale.text
    assert _state(api, world, aid)["status"] == "ACTIVE"


def test_the_team_chart_shows_the_managers_team_against_the_receiving_limit(api: Api) -> None:
    world = World(api)
    _with_reallocation(api, world, 3)
    world.sync()
    page = _manager(api, world).get("/team")
    assert page.status_code == 200
    html = page.text
    assert '<div role="img" aria-labelledby="chart-title chart-desc">' in html
    assert "receiving limit 4 h" in html
    row = re.search(rf"<th scope=\"row\">{world.ids['mate'].title()}</th>(.*?)</tr>", html)
    assert row is not None
    assert re.findall(r"<td>([^<]*)</td>", row.group(1)) == ["40", "0", "0", "3", "3", "no"]
    assert world.ids["stranger"].title() not in html  # another team's
    # Another team's manager and an employee see nothing of it; HR picks any team.
    other = sign_in(api.client, api.secret, world.ids["mgr2"], Role.MANAGER)
    assert other.get("/team", params={"team": world.team}).status_code == 404
    assert sign_in(api.client, api.secret, "e", Role.EMPLOYEE).get("/team").status_code == 404
    hr = sign_in(api.client, api.secret, world.ids["hr"], Role.HR)
    chosen = hr.get("/team", params={"team": world.team})
    assert chosen.status_code == 200 and world.ids["mate"].title() in chosen.text
    assert f'<option value="{world.team}" selected>' in chosen.text
