"""A manager's reports page over HTTP (in-process, both databases): one row per report
with the same numbers GraphQL gives the same manager (`teamWorkload`'s hours,
`reviewsDue`'s next review), filters and sorts by plain links, and only for managers."""

from __future__ import annotations

import re
from datetime import date, timedelta

from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.web import sign_in
from tests.e2e.world import World

REALLOCATE = """mutation($input: ReallocateTaskInput!) { reallocateTask(input: $input) {
  agreement { version } userErrors { field message code } } }"""
WORKLOAD = """query($t: String!) { teamWorkload(teamId: $t) { members { personId
  developmentHoursPerWeek hoursGivenPerWeek hoursReceivedPerWeek netHoursReceivedPerWeek } } }"""
DUE = """query($m: String!, $before: Date!) { reviewsDue(before: $before, managerId: $m, first: 50) {
  edges { node { nextReviewOn employee { id } } } } }"""


def _cells(page: str) -> dict[str, dict[str, str]]:
    """Each report's row: person id → cell class → its text (tags dropped)."""
    found = {}
    for pid, row in re.findall(r'<tr role="row" data-person="([^"]+)">(.*?)</tr>', page, re.S):
        cells = re.findall(
            r'<td role="cell" data-label="[^"]*"(?: class="([^"]+)")?>(.*?)</td>', row, re.S
        )
        found[pid] = {k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells if k}
        found[pid]["status"] = re.sub(
            r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[0]
        )
    return found


def test_the_reports_page_shows_what_graphql_shows(api: Api) -> None:
    world = World(api)
    aid = world.active(max_hours=6)["id"]  # Emp: 2 h development, review in 14 days
    world.propose(world.mate)  # Mate: a proposal awaiting the manager
    moved = api.data(
        world.manager,
        REALLOCATE,
        input={
            "agreementId": aid,
            "task": "Regression triage",
            "hoursPerWeek": 1.5,
            "toPersonId": world.ids["mate"],
            "reason": "Time for discovery",
        },
    )["reallocateTask"]
    assert moved["userErrors"] == []
    world.sync()
    manager = sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    page = manager.get("/reports")
    assert page.status_code == 200
    rows = _cells(page.text)
    assert set(rows) == {world.ids[k] for k in ("emp", "mate", "mate2")}

    members = api.data(world.manager, WORKLOAD, t=world.team)["teamWorkload"]["members"]
    for m in members:
        if m["personId"] not in rows:
            continue  # the manager themself
        row = rows[m["personId"]]
        assert row["development"].startswith(f"{m['developmentHoursPerWeek']:g}"), row
        assert row["given-received"].startswith(
            f"{m['hoursGivenPerWeek']:g} given, {m['hoursReceivedPerWeek']:g} received "
            f"(net {m['netHoursReceivedPerWeek']:g} of"
        ), row
    before = (date.today() + timedelta(days=60)).isoformat()
    due = api.data(world.manager, DUE, m=world.ids["mgr"], before=before)["reviewsDue"]["edges"]
    assert len(due) == 1
    [node] = [e["node"] for e in due]
    emp = rows[world.ids["emp"]]
    assert emp["review"] == f"in 14 days ({node['nextReviewOn']})", emp
    assert emp["development"] == "2 of at most 6"
    assert "active" in emp["status"]
    mate = rows[world.ids["mate"]]
    assert "proposed" in mate["status"] and mate["awaits"] == "You: decide on the proposal"
    assert mate["given-received"].startswith("0 given, 1.5 received (net 1.5 of")
    mate2 = rows[world.ids["mate2"]]
    assert mate2["status"] == "no agreement" and mate2["awaits"].endswith("propose an agreement")

    # Filters and sorts: plain GET links.
    waiting = _cells(manager.get("/reports?awaits=you").text)
    # The review due within the inbox's two weeks awaits the manager too.
    assert emp["awaits"] == "You: record a review"
    assert set(waiting) == {world.ids["mate"], world.ids["emp"]}
    assert set(_cells(manager.get("/reports?status=none").text)) == {world.ids["mate2"]}
    named = _cells(manager.get("/reports", params={"q": world.ids["emp"].title()}).text)
    assert set(named) == {world.ids["emp"]}
    by_net = list(_cells(manager.get("/reports?sort=net&order=desc").text))
    assert by_net[0] == world.ids["mate"] and by_net[-1] == world.ids["emp"]
    odd = manager.get("/reports?sort=nonsense&status=<b>&awaits=x")
    assert odd.status_code == 200 and len(_cells(odd.text)) == 3

    # Only a manager has reports.
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    assert employee.get("/reports").status_code == 404
    other = sign_in(api.client, api.secret, world.ids["mgr2"], Role.MANAGER, Role.EMPLOYEE)
    assert set(_cells(other.get("/reports").text)) == {world.ids["stranger"]}
