"""The manager's web pages over HTTP (in-process, both databases): the inbox, every
manager action on the agreement page, the live fairness check, reverts and the
preview of a revert to a version, and the team's workload chart."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.web import hidden_fields, sign_in
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
    return client.post(target, data=fields | values)


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
    ids = {k: str(agreement_uuid(v["id"])) for k, v in (
        ("proposed", proposed), ("asked", asked), ("active", active), ("theirs", theirs)
    )}
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
        assert sign_in(api.client, api.secret, world.ids["emp"], role).get("/inbox").status_code == 404
    assert 'href="/inbox"' in page.text
    assert 'href="/inbox"' not in sign_in(api.client, api.secret, "e", Role.EMPLOYEE).get("/").text


def test_the_inbox_reads_in_the_same_number_of_queries_however_many_reports(api: Api) -> None:
    world = World(api)
    world.propose()
    world.sync()
    manager = _manager(api, world)
    engine = api.container.engines.reader
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def queries() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert manager.get("/inbox").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    few = queries()
    for token in (world.mate, world.employee, world.mate, world.employee):
        world.propose(token)
    world.active()
    world.sync()
    assert queries() == few
    assert few <= 12
