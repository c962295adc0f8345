"""N+1-free: a page costs the same number of SQL statements whatever its size."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event

from tests.e2e.conftest import Api
from tests.e2e.world import World

PAGE = """query($n: Int!) { agreements(first: $n) { edges { node {
  id title employee { displayName manager { displayName } } adjustments { kind hoursPerWeek }
  reallocations { task } latestReview { outcome } reviews { outcome } artifacts { title }
  changes { changeId } } } } }"""


KEYS = "crafting_data_keys"


def _statements(api: Api, token: str, n: int) -> int:
    count = 0

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal count
        # The followers (projector, webhooks, notifications and its mail senders) use the
        # same engine from their own threads (in serve): count only the statements the
        # request made. The key store's lookups depend on what is cached already
        # (test_erasure checks they are batched).
        worker = threading.current_thread().name.startswith(
            ("projections", "webhook", "follower-", "mail")
        )
        if not worker and KEYS not in statement:
            count += 1

    engine = api.container.engines.reader
    event.listen(engine, "before_cursor_execute", counted)
    try:
        edges = api.data(token, PAGE, n=n)["agreements"]["edges"]
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert len(edges) == n
    return count


def test_a_page_costs_the_same_statements_for_2_or_12_agreements(api: Api) -> None:
    w = World(api)
    position = 0
    for n in range(12):
        aid = w.active()["id"] if n % 2 else w.propose()["id"]
        review = (
            api.data(
                w.manager,
                """mutation($i: RecordReviewInput!) { recordReview(input: $i)
            { position } }""",
                i={"agreementId": aid, "outcome": "ON_TRACK"},
            )
            if n % 2
            else None
        )
        position = review["recordReview"]["position"] if review else position
    api.data(
        w.hr,
        "query($p: Int) { agreements(first: 1, consistentWith: $p) { edges { cursor } } }",
        p=position,
    )  # the read models have caught up
    # Warm: the compiled path looks the live generation up once per process and keeps
    # it (it runs again after a switch), so the first page alone pays that lookup.
    _statements(api, w.hr, 1)
    small = _statements(api, w.hr, 2)
    large = _statements(api, w.hr, 12)
    assert small == large, (small, large)
    assert large <= 30  # a transaction, the live generation and one query per loader
