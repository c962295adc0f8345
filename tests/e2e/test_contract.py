"""What integrators build on: the feed's cursor never resets, a mutation's `position` is
an event they will see in the feed, and a revert accepts the id they hold."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.world import World

FEED = """query($after: String, $p: Int) { changes(first: 3, after: $after, consistentWith: $p) {
  edges { node { position } } pageInfo { hasNextPage endCursor } } }"""
PAUSE = """mutation($input: AgreementCommandInput!) { pauseAgreement(input: $input) {
  position userErrors { code } } }"""
REVERT = """mutation($input: RevertChangeInput!) { revertChange(input: $input) {
  agreement { reallocations { id status } } userErrors { code message } } }"""


def _sync(api: Api, w: World, after: str | None) -> tuple[list[int], str | None]:
    """The natural loop: follow endCursor until there is no next page."""
    seen: list[int] = []
    while True:
        page = api.data(w.integration, FEED, after=after, p=api.position())["changes"]
        seen += [e["node"]["position"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return seen, after


def test_the_change_feed_resumes_from_its_last_cursor_and_never_starts_over(api: Api) -> None:
    w = World(api)
    first, cursor = _sync(api, w, None)
    assert first and cursor is not None
    again, same = _sync(api, w, cursor)  # caught up: nothing, and the same cursor back
    assert (again, same) == ([], cursor)
    w.propose()
    more, _ = _sync(api, w, cursor)
    assert more and min(more) > max(first)  # only what is new, nothing twice


def test_a_mutation_position_with_an_idempotency_key_is_an_event_of_the_feed(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    fields: dict[str, Any] = {"agreementId": aid, "reason": "Crunch", "idempotencyKey": "k-1"}
    position = api.data(w.manager, PAUSE, input=fields)["pauseAgreement"]["position"]
    replayed = api.data(w.manager, PAUSE, input=fields)["pauseAgreement"]["position"]
    assert replayed == position
    feed, _ = _sync(api, w, None)
    assert position in feed
    log = api.data(
        w.auditor,
        "query($p: Int) { auditLog(first: 1, consistentWith: $p) { edges { node { position "
        "type } } } }",
        p=position,
    )["auditLog"]["edges"]
    assert log[0]["node"] == {"position": position, "type": "Paused"}


def test_a_reallocation_is_reverted_by_its_id_as_well_as_its_change_id(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    moved = api.data(
        w.manager,
        """mutation($input: ReallocateTaskInput!) { reallocateTask(input: $input) {
        agreement { reallocations { id changeId } } userErrors { code } } }""",
        input={
            "agreementId": aid,
            "task": "Triage",
            "hoursPerWeek": 1,
            "toPersonId": w.ids["mate"],
            "reason": "x",
        },
    )["reallocateTask"]
    (item,) = moved["agreement"]["reallocations"]
    unknown = api.data(
        w.manager, REVERT, input={"agreementId": aid, "changeId": "nope", "reason": "x"}
    )["revertChange"]["userErrors"]
    assert unknown[0]["code"] == "NOT_FOUND" and "changeId (or the id)" in unknown[0]["message"]
    reverted = api.data(
        w.manager, REVERT, input={"agreementId": aid, "changeId": item["id"], "reason": "x"}
    )["revertChange"]
    assert reverted["userErrors"] == []
    assert reverted["agreement"]["reallocations"] == [{"id": item["id"], "status": "REVERTED"}]


def test_the_schema_says_where_a_reason_is_required(api: Api) -> None:
    w = World(api)
    query = """query($t: String!) { __type(name: $t) { inputFields { name description
      type { kind } } } }"""

    def reason(type_name: str) -> dict[str, Any]:
        fields = api.data(w.integration, query, t=type_name)["__type"]["inputFields"]
        found: dict[str, Any] = next(f for f in fields if f["name"] == "reason")
        return found

    for required in ("RevertChangeInput", "RevertToVersionInput", "ReallocateTaskInput"):
        assert reason(required)["type"]["kind"] == "NON_NULL", required
    shared = reason("AgreementCommandInput")  # also resume and complete, which need none
    assert "required by pauseAgreement, rejectAgreement" in shared["description"]


def test_reviews_due_come_soonest_first_and_page_in_that_order(api: Api) -> None:
    w = World(api)
    review = """mutation($input: RecordReviewInput!) { recordReview(input: $input) {
      userErrors { code } } }"""
    due = {}
    for days in (40, 10, 25, 10):
        aid = w.active()["id"]
        next_on = (date(2030, 1, 1) + timedelta(days=days)).isoformat()
        api.data(
            w.manager,
            review,
            input={
                "agreementId": aid,
                "outcome": "ON_TRACK",
                "heldOn": "2030-01-01",
                "nextReviewOn": next_on,
            },
        )
        due[aid] = next_on
    query = """query($after: String, $p: Int) { reviewsDue(before: "2031-01-01", first: 2,
      after: $after, consistentWith: $p) { edges { node { id nextReviewOn } }
      pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = api.data(w.manager, query, after=after, p=api.position())["reviewsDue"]
        seen += [(e["node"]["nextReviewOn"], e["node"]["id"]) for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert [d for d, _ in seen] == sorted(due.values())
    assert sorted(i for _, i in seen) == sorted(due)  # each once, none lost between pages
