"""The agreement page on a long history (both databases): the latest adjustments,
artifacts and changes in effect on the page, read as bounded runs; the earlier ones a
page at a time (a heading saying which range, links to the runs before and after);
whatever the page leaves out is reachable; bad page parameters get a 400 page."""

from __future__ import annotations

import re
import secrets
from html import unescape
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from sqlalchemy import event

from api.graphql.ids import agreement_uuid
from api.web.agreements import LIST_SHOWN
from domain.access import Actor
from domain.application import Request
from domain.application import commands as c
from domain.values import AdjustmentDraft, AdjustmentKind, Role
from tests.e2e.conftest import Api
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.web import CONFIRMED, hidden_fields, sign_in
from tests.e2e.world import World


def _long(api: Api, world: World, adjustments: int) -> str:
    """An active agreement with `adjustments` adjustments (the proposal's one and
    "Step 01"… added by the manager, each a change in effect); its uuid."""
    aid = str(agreement_uuid(world.active(max_hours=40)["id"]))
    manager = Actor(world.ids["mgr"], frozenset({Role.MANAGER, Role.EMPLOYEE}))
    for n in range(1, adjustments):
        draft = AdjustmentDraft(AdjustmentKind.COGNITIVE, f"Step {n:02d}", 0)
        api.container.app.execute(
            Request(manager, correlation_id=secrets.token_hex(8)),
            c.AddAdjustment(agreement_id=UUID(aid), adjustment=draft),
        )
    world.sync()
    return aid


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def _link(html: str, text: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)">{re.escape(text)}', html)
    return None if found is None else unescape(found.group(1))


def _heading(html: str) -> str:
    found = re.search(r'<h2 id="run-heading">([^<]*)</h2>', html)
    assert found is not None, html
    return found.group(1)


def _steps(html: str) -> list[str]:
    return re.findall(r"<li>(Step \d+|Write one feature brief) —", html)


def _manager(api: Api, world: World) -> TestClient:
    return sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)


def test_the_page_shows_the_latest_adjustments_and_the_earlier_ones_a_page_at_a_time(
    api: Api,
) -> None:
    world = World(api)
    total = 2 * LIST_SHOWN + 5
    aid = _long(api, world, total)
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    page = employee.get(f"/agreements/{aid}")
    assert page.status_code == 200
    latest = _steps(_section(page.text, "adjustments"))
    assert latest == [f"Step {n:02d}" for n in range(total - LIST_SHOWN, total)]
    more = total - LIST_SHOWN
    earlier = _link(page.text, f"Earlier adjustments ({more} more)")
    assert earlier is not None
    seen, pages = list(latest), []
    while earlier is not None:
        older = employee.get(earlier)
        assert older.status_code == 200, older.text
        pages.append(older.text)
        seen[:0] = _steps(older.text)
        earlier = _link(older.text, "Earlier adjustments")
    # Every adjustment on exactly one page, in recorded order.
    assert seen == ["Write one feature brief"] + [f"Step {n:02d}" for n in range(1, total)]
    first, oldest = pages[0], pages[-1]
    assert (
        _heading(first)
        == f"Adjustments {total - 2 * LIST_SHOWN + 1} to {total - LIST_SHOWN} of {total}"
    )
    assert _heading(oldest) == f"Adjustments 1 to {total - 2 * LIST_SHOWN} of {total}"
    # From the oldest run, "Later" leads back through the same runs.
    later = _link(oldest, "Later adjustments")
    assert later is not None
    assert _steps(employee.get(later).text) == _steps(first)
    assert _link(first, "Later adjustments") is not None
    assert _link(first, "Back to the agreement (the latest)") == f"/agreements/{aid}"


def test_a_list_of_exactly_the_shown_number_has_no_earlier_page(api: Api) -> None:
    world = World(api)
    aid = _long(api, world, LIST_SHOWN)
    # A proposal awaiting the manager: their menu counts it (the page's range heading
    # once took the menu's total for its own).
    world.propose(world.mate)
    world.sync()
    manager = _manager(api, world)
    html = manager.get(f"/agreements/{aid}").text
    assert len(_steps(_section(html, "adjustments"))) == LIST_SHOWN
    assert "Earlier adjustments" not in html
    # One more: the earliest moves to a page of its own, named on the agreement page.
    api.container.app.execute(
        Request(Actor(world.ids["mgr"], frozenset({Role.MANAGER})), correlation_id="x" * 16),
        c.AddAdjustment(
            agreement_id=UUID(aid),
            adjustment=AdjustmentDraft(AdjustmentKind.TASK, "One more", 0),
        ),
    )
    world.sync()
    html = manager.get(f"/agreements/{aid}").text
    earlier = _link(html, "Earlier adjustments (1 more)")
    assert earlier is not None
    older = manager.get(earlier).text
    assert _steps(older) == ["Write one feature brief"]
    assert _heading(older) == f"Adjustments 1 to 1 of {LIST_SHOWN + 1}"
    assert _link(older, "Earlier adjustments") is None


def test_earlier_changes_in_effect_are_reverted_from_their_own_page(api: Api) -> None:
    world = World(api)
    aid = _long(api, world, LIST_SHOWN + 3)
    manager = _manager(api, world)
    html = manager.get(f"/agreements/{aid}").text
    shown = re.findall(r'name="changeId" value="([^"]+)"', _section(html, "changes-heading"))
    assert len(shown) == LIST_SHOWN
    earlier = _link(html, "Earlier changes in effect")
    assert earlier is not None
    older = manager.get(earlier)
    assert older.status_code == 200
    assert _heading(older.text).startswith("Changes in effect 1 to ")
    assert "Adjustment “Step 01”, 0.0 h/week" in unescape(older.text)
    change = re.findall(r'name="changeId" value="([^"]+)"', older.text)[-1]
    assert change not in shown
    target = f"/agreements/{aid}/revert"
    fields = hidden_fields(older.text[older.text.index(f'value="{change}"') - 2000 :], target)
    # Refused (no reason): the agreement's page tells why, though the change is not on it.
    refused = manager.post(target, data=fields | {"changeId": change} | CONFIRMED)
    assert refused.status_code == 422
    told = re.search(r'id="revert-refused">([^<]*)<', refused.text)
    assert told is not None and told.group(1).startswith("The revert was not recorded: ")
    assert len(told.group(1)) > len("The revert was not recorded: ")
    fields = hidden_fields(manager.get(earlier).text.split(f'value="{change}"')[0][-2000:], target)
    sent = manager.post(
        target, data=fields | {"changeId": change, "reason": "Not needed"} | CONFIRMED
    )
    assert sent.status_code == 303, sent.text
    world.sync()
    again = manager.get(earlier).text
    assert change not in again
    # Only the manager's side reverts: the employee gets the same 404 as for nothing.
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    assert employee.get(earlier).status_code == 404


def test_bad_page_parameters_get_a_400_page_and_an_empty_range_a_page_saying_so(
    api: Api,
) -> None:
    world = World(api)
    aid = _long(api, world, 2)
    manager = _manager(api, world)
    base = f"/agreements/{aid}/earlier/adjustments"
    for query in (
        "",
        "?before=abc",
        "?before=1",
        "?after=-1.0",
        "?before=1.0&after=1.0",
        "?before=99999999999999999999.0",
        "?before=1.0.0",
    ):
        answer = manager.get(base + query)
        assert answer.status_code == 400, (query, answer.status_code)
        assert "where a list continues" in answer.text
    assert manager.get(f"/agreements/{aid}/earlier/everything?before=1.0").status_code == 404
    missing = f"/agreements/{UUID(int=7)}/earlier/adjustments?before=1.0"
    assert manager.get(missing).status_code == 404
    empty = manager.get(base + "?before=0.0")
    assert empty.status_code == 200
    assert _heading(empty.text) == "Adjustments: none in this range"
    assert _link(empty.text, "Later adjustments") is None
    assert _link(empty.text, "Back to the agreement (the latest)") == f"/agreements/{aid}"


def test_the_page_reads_runs_of_its_lists_never_a_whole_list(api: Api) -> None:
    """Every read of the agreement's lists on its page is bounded: a range (LIMIT), a
    count, or rows by id."""
    world = World(api)
    aid = _long(api, world, LIST_SHOWN + 2)
    manager = _manager(api, world)
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = api.container.engines.reader
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert manager.get(f"/agreements/{aid}").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    lists = ("adjustments", "reallocations", "reviews", "artifacts", "changes")
    reads = [
        sql
        for sql in statements
        if re.search(rf"FROM \S*_?({'|'.join(lists)})\b", sql) and "projection" not in sql
    ]
    assert reads
    by_id = re.compile(r"\.(adjustment|reallocation|change)_id IN \(")
    unbounded = [
        sql for sql in reads if "LIMIT" not in sql and "count(" not in sql and not by_id.search(sql)
    ]
    # The outcomes (a handful at most) are read whole; nothing else is.
    assert unbounded == [], unbounded
