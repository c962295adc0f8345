"""Read-your-writes waits (`consistentWith`) hold no worker thread and are bounded per
caller: many waiting requests never starve other callers' reads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.values import Role
from tests.e2e.conftest import Api, serving

WAITING = 40  # more than any default thread pool (min(32, cores + 4))
FAR_AHEAD = 2_000_000_000
WAIT = "query($p: Int) { agreements(first: 1, consistentWith: $p) { edges { cursor } } }"
READ = "{ agreements(first: 1) { edges { cursor } } }"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with serving(f"sqlite:///{tmp_path}/crafting.db") as served:
        yield served


def _codes(body: dict[str, object]) -> list[object]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [e["extensions"]["code"] for e in errors]


def test_waiting_reads_do_not_starve_other_callers(api: Api) -> None:
    finished: list[str] = []
    lock = threading.Lock()
    started = threading.Barrier(WAITING + 1)

    def wait(i: int) -> None:
        token = api.token(f"integration-{i}", Role.INTEGRATION)
        started.wait()
        body = api.gql(token, WAIT, p=FAR_AHEAD)
        assert _codes(body) == ["NOT_YET_CONSISTENT"]
        with lock:
            finished.append("waiter")

    waiters = [threading.Thread(target=wait, args=(i,)) for i in range(WAITING)]
    for waiter in waiters:
        waiter.start()
    started.wait()
    threading.Event().wait(0.5)  # every waiter is inside its wait by now
    body = api.gql(api.token("hr-reader", Role.HR), READ)
    assert "errors" not in body
    with lock:
        finished.append("reader")
    for waiter in waiters:
        waiter.join(timeout=60)
    # The plain read was answered while every wait was still pending.
    assert finished[0] == "reader"
    assert finished.count("waiter") == WAITING


def test_one_caller_may_hold_only_a_few_waits_at_once(api: Api) -> None:
    token = api.token("integration-greedy", Role.INTEGRATION)
    messages: list[str] = []
    lock = threading.Lock()
    started = threading.Barrier(6)

    def wait() -> None:
        started.wait()
        body = api.gql(token, WAIT, p=FAR_AHEAD)
        assert _codes(body) == ["NOT_YET_CONSISTENT"]
        with lock:
            messages.append(body["errors"][0]["message"])  # type: ignore[index]

    waiters = [threading.Thread(target=wait) for _ in range(6)]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join(timeout=60)
    refused = [m for m in messages if m.startswith("At most 4 reads")]
    timed_out = [m for m in messages if "have not reached position" in m]
    assert (len(refused), len(timed_out)) == (2, 4), messages
    assert messages[:2] == refused  # refused at once, before any wait ended


def test_a_write_is_readable_with_its_position(api: Api) -> None:
    token = api.token("hr-writer", Role.HR)
    people = api.data(
        token,
        'mutation { upsertPeople(input: {people: [{id: "p-1", displayName: "P", '
        'email: "p@example.com", contractedHoursPerWeek: 40, active: true}]}) '
        "{ position userErrors { code } } }",
    )["upsertPeople"]
    assert people["userErrors"] == []
    found = api.data(
        token,
        'query($p: Int) { person(id: "p-1", consistentWith: $p) { displayName } }',
        p=people["position"],
    )
    assert found["person"] == {"displayName": "P"}
