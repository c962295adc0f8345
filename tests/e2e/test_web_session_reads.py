"""What a signed-in page costs the database before its own reads: the session's check
(signed out?), the header's name and inbox count, the unread notifications and the
chosen time zone share one transaction (one pool checkout, one BEGIN and COMMIT), on
both databases."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from api.app import create_app
from api.graphql.ids import agreement_uuid
from api.web.sessions import COOKIE
from domain.values import Role
from infra.database import create_engines
from infra.read_routing import ReadRouter
from tests.e2e.conftest import Api
from tests.e2e.web import browser, hidden_fields, sign_in
from tests.e2e.world import World
from tests.processes import eventually

# The followers (projector, webhooks, notifications and its mail senders) share the
# engines from threads of their own: only the request's transactions are counted.
FOLLOWERS = ("projections", "webhook", "follower-", "mail", "read-replicas")
SESSION_READS = (
    "web_used_tokens",  # signed out?
    "crafting_notify_outbox",  # unread notifications
    "crafting_notify_digest_times",  # the chosen time zone
    "display_name",  # the header's name
)
PAGE_READS = {"inbox": "audit_log", "agreements": "adjustments"}  # each page's own read


@contextmanager
def transactions() -> Iterator[list[list[str]]]:
    """The statements of each transaction begun on the request's threads, in order."""
    begun: list[list[str]] = []
    current = threading.local()

    def mine() -> bool:
        return not threading.current_thread().name.startswith(FOLLOWERS)

    def begin(_conn: Any) -> None:
        if mine():
            current.statements = []
            begun.append(current.statements)

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if mine():
            getattr(current, "statements", []).append(sql)

    hooks: list[tuple[str, Callable[..., None]]] = [
        ("begin", begin),
        ("before_cursor_execute", statement),
    ]
    for name, hook in hooks:
        event.listen(Engine, name, hook)
    try:
        yield begun
    finally:
        for name, hook in hooks:
            event.remove(Engine, name, hook)


def _page_transactions(browser: TestClient, path: str) -> list[list[str]]:
    assert browser.get(path).status_code == 200  # warm: keys, caches
    with transactions() as begun:
        assert browser.get(path).status_code == 200
    return begun


def test_a_page_reads_the_session_and_its_header_in_one_transaction(api: Api) -> None:
    world = World(api)
    aid = agreement_uuid(world.propose()["id"])
    world.sync()
    manager = sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    for path in ("/inbox", f"/agreements/{aid}"):
        begun = _page_transactions(manager, path)
        session = [t for t in begun if any("web_used_tokens" in sql for sql in t)]
        assert len(session) == 1, (path, begun)
        for table in SESSION_READS:
            assert any(table in sql for sql in session[0]), (path, table, session[0])
        # Signed out?, the unread notifications and the zone: one statement.
        assert any(all(t in sql for t in SESSION_READS[:3]) for sql in session[0]), path
        # The page's own read shares the session's transaction (`Site.session_reading`).
        assert len(begun) == 1, (path, [t[:2] for t in begun])
        assert any(PAGE_READS[path.split("/")[1]] in sql for sql in session[0]), path
        # Of the directory only names (and whom the employee reports to) are read: a
        # whole row would have its e-mail address and other sealed values opened.
        people = [sql for sql in session[0] if re.search(r"FROM \w*people\b", sql)]
        assert people and not any(".email" in sql for sql in people), (path, people)
        # The manager's name among the receivers is the page's names' (no query more).
        assert len([sql for sql in people if ".person_id IN" in sql]) <= 3, (path, people)


def test_after_ones_own_write_the_agreement_page_waits_before_its_read(api: Api) -> None:
    """`?recorded=`: the session is checked, then the page waits for the projector,
    then reads: two transactions, the page's read after the wait."""
    world = World(api)
    aid = agreement_uuid(world.propose()["id"])
    world.sync()
    manager = sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    begun = _page_transactions(manager, f"/agreements/{aid}?recorded=1")
    session = [t for t in begun if any("web_used_tokens" in sql for sql in t)]
    assert len(session) == 1 and not any("adjustments" in sql for sql in session[0])
    assert any("adjustments" in sql for t in begun[begun.index(session[0]) + 1 :] for sql in t)


def test_a_signed_out_session_reads_nothing_more(api: Api) -> None:
    world = World(api)
    world.sync()
    manager = sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    copy = browser(api.client)
    copy.cookies.set(COOKIE, manager.cookies[COOKIE])
    token = hidden_fields(manager.get("/inbox").text, "/logout")["csrf_token"]
    assert manager.post("/logout", data={"csrf_token": token}).status_code == 303
    with transactions() as begun:
        answer = copy.get("/inbox")
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    statements = [sql for t in begun for sql in t]
    # The session's one statement (its notifications and zone, read beside, unused),
    # then neither the header's query nor the page's read.
    assert any("web_used_tokens" in sql for sql in statements)
    assert not any("display_name" in sql or "audit_log" in sql for sql in statements)


MASKED = re.compile(
    r'((?:name="(?:csrf_token|idempotency_key)" value|name="csrf-token" content)=")[^"]+'
)


def test_a_page_is_the_same_whether_its_header_is_read_on_a_replica_or_beside_the_session(
    api: Api,
) -> None:
    world = World(api)
    aid = agreement_uuid(world.propose()["id"])
    world.sync()
    # The header counts the manager's unread notifications, which the notifications
    # follower writes in its own time: both clients must read after it, or a slow
    # machine shows the count to the second client only.
    head, notifications = api.position(), api.container.notifications(api.secret).follower
    assert eventually(lambda: notifications.position() >= head, 30)
    replica = create_engines(api.container.settings.database.url).reader
    router = ReadRouter(api.container.engines.reader, [("replica:5432/db", replica)], 5)
    router.replicas[0].in_rotation = True  # as a check would find it
    api.container.read_router = router
    try:
        replicated = TestClient(create_app(api.container), follow_redirects=False)
    finally:
        api.container.read_router = None
    try:
        pages = []
        for client in (api.client, replicated):
            manager = sign_in(client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
            shown = [manager.get(path) for path in ("/inbox", f"/agreements/{aid}", "/")]
            assert all(page.status_code == 200 for page in shown)
            pages.append([MASKED.sub(r"\1…", page.text) for page in shown])
        (status,) = router.status()
        assert status.reads >= 3  # the header's query, and each page's own read, there
        assert pages[0] == pages[1]
        assert world.ids["mgr"].title() in pages[1][0]  # the header's name, read there
    finally:
        replica.dispose()


# A statement whose own FROM (not a subquery's) is the directory.
DIRECTORY_READ = re.compile(r"^SELECT [^(]*?\bFROM \w*people\b")


def test_the_agreement_page_reads_the_directory_once_and_the_header_counts_in_one(
    api: Api,
) -> None:
    """The agreement page's people (whom the employee reports to, the names it shows,
    the manager's reports its receiver list offers) are one statement beside the
    header's name; the header's inbox count (proposals and reviews due) is one; the live
    generation of the read models is read in the session's statement."""
    world = World(api)
    aid = agreement_uuid(world.propose()["id"])
    world.sync()
    manager = sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    counted: dict[str, int] = {}
    for path in ("/inbox", f"/agreements/{aid}"):
        [statements] = _page_transactions(manager, path)
        directory = [sql for sql in statements if DIRECTORY_READ.match(sql.strip())]
        # The header's name, then the page's names (all of them, once).
        assert len(directory) == 2, (path, directory)
        counted[path.split("/")[1]] = len(statements)
        generation = [sql for sql in statements if "crafting_projection_state" in sql]
        assert len(generation) == 1 and "web_used_tokens" in generation[0], (path, generation)
    # Before: 11 and 16 (the count was two statements; the page's people three; the
    # live generation one of its own).
    assert counted["inbox"] <= 9 and counted["agreements"] <= 12, counted
