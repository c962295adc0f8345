"""Reads from a real PostgreSQL streaming replica (CRAFTING_READ_DATABASE_URL): a primary
and a replica of it started by the tests (tests/replication.py), the service in-process
on the primary with the replica for reads."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from prometheus_client import REGISTRY

from api.graphql.ids import agreement_uuid
from bench.replication import NoPostgresBinaries, Replication
from domain.values import Role
from infra.read_routing import ReadRouter, ReplicaStatus
from tests.e2e.conftest import Api, serving
from tests.e2e.scim import user
from tests.e2e.test_insights import Org
from tests.e2e.web import sign_in
from tests.e2e.world import PROPOSE, World
from tests.processes import free_port

pytestmark = pytest.mark.postgres

AGREEMENT = """query($id: ID!, $p: Int) { agreement(id: $id, consistentWith: $p) {
  id title adjustments { description } } }"""
COMPILED = "crafting_graphql_compiled_reads_total"
LIST = "{ agreements(first: 5) { edges { node { id title adjustments { description } } } } }"


@pytest.fixture(scope="module")
def replication() -> Iterator[Replication]:
    """A primary and its streaming replica for this module's tests."""
    try:
        started = Replication().start()
    except NoPostgresBinaries as missing:
        if os.environ.get("CRAFTING_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"CRAFTING_REQUIRE_POSTGRES=1 but {missing}")
        pytest.skip(str(missing))
    yield started
    started.close()


@pytest.fixture
def replica(replication: Replication) -> Iterator[Replication]:
    """The pair, left streaming and replaying whatever a test did to it."""
    yield replication
    if not (replication.replica_dir / "postmaster.pid").exists():
        replication.start_replica()
    replication.resume_replay()


def _schema_url(replication: Replication) -> str:
    schema = f"t_{uuid4().hex[:12]}"
    with psycopg.connect(replication.primary_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{replication.primary_url}?schema={schema}"


@pytest.fixture
def api(replica: Replication) -> Iterator[Api]:
    """The service on the primary, reading from the replica (30 s lag allowed)."""
    with serving(_schema_url(replica), read_database_url=replica.replica_url) as served:
        yield served


def _router(api: Api) -> ReadRouter:
    router = api.container.read_router
    assert router is not None
    return router


def _replica(api: Api) -> ReplicaStatus:
    (status,) = _router(api).status()
    return status


def eventually(check: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.1)


def _propose(world: World, title: str) -> tuple[str, int]:
    payload = world.api.data(
        world.employee,
        PROPOSE,
        input={
            "title": title,
            "careerGoal": {"targetRole": "Product manager", "skills": ["roadmapping"]},
            "adjustments": [{"kind": "TASK", "description": f"brief {title}", "hoursPerWeek": 2}],
        },
    )["proposeAgreement"]
    assert payload["userErrors"] == [], payload
    return payload["agreement"]["id"], payload["position"]


def _readyz_replica(api: Api) -> dict[str, Any]:
    response = api.client.get("/readyz")
    assert response.status_code == 200, response.text  # a replica never makes it unready
    (found,) = response.json()["read_replicas"]
    assert isinstance(found, dict)
    return found


def test_reads_go_to_the_replica(api: Api, replica: Replication) -> None:
    world = World(api)
    eventually(lambda: _replica(api).in_rotation, what="the replica in rotation")
    before = _replica(api).reads
    agreement_id, position = _propose(world, "Read from the replica")
    world.sync()  # the primary's read models have it…
    replica.wait_replayed()  # …and the replica has replayed them
    found = api.data(world.employee, AGREEMENT, id=agreement_id, p=position)["agreement"]
    assert found["title"] == "Read from the replica"
    assert found["adjustments"] == [{"description": "brief Read from the replica"}]
    # The agreement and its children (a batched loader) were read on the replica.
    assert _replica(api).reads >= before + 2
    body = _readyz_replica(api)
    assert body["in_rotation"] is True
    assert body["name"] == f"127.0.0.1:{replica.replica_port}/postgres"  # no user, no password
    assert body["reason"] is None


def test_a_compiled_list_is_read_on_the_replica(api: Api, replica: Replication) -> None:
    """The compiled reads' one statement, run without a transaction, goes to the
    replica in rotation as every read does."""
    world = World(api)
    world.propose()
    world.sync()
    eventually(lambda: _replica(api).in_rotation, what="the replica in rotation")
    replica.wait_replayed()
    served = REGISTRY.get_sample_value(COMPILED, {"outcome": "served"}) or 0.0
    before = _replica(api).reads
    assert len(api.data(world.manager, LIST)["agreements"]["edges"]) == 1
    assert REGISTRY.get_sample_value(COMPILED, {"outcome": "served"}) == served + 1
    assert _replica(api).reads == before + 1


def test_read_your_writes_holds_through_a_replica_that_has_not_replayed_them(
    api: Api, replica: Replication
) -> None:
    world = World(api)
    eventually(lambda: _replica(api).in_rotation, what="the replica in rotation")
    replica.pause_replay()  # still in rotation: 30 s of lag are allowed
    agreement_id, position = _propose(world, "Written while the replica waits")
    # Without the position, the replica answers as it is: the agreement is not there.
    assert api.data(world.employee, LIST)["agreements"]["edges"] == []
    assert _replica(api).in_rotation
    fallbacks = _replica(api).fallbacks
    # With it, the request's reads go where the write is (the primary).
    for _ in range(3):
        found = api.data(world.employee, AGREEMENT, id=agreement_id, p=position)["agreement"]
        assert found is not None
        assert found["adjustments"] == [{"description": "brief Written while the replica waits"}]
    assert _replica(api).fallbacks > fallbacks
    # Once replayed, the same reads come from the replica again.
    replica.resume_replay()
    replica.wait_replayed()
    reads = _replica(api).reads
    found = api.data(world.employee, AGREEMENT, id=agreement_id, p=position)["agreement"]
    assert found["title"] == "Written while the replica waits"
    assert _replica(api).reads > reads


def test_scim_reads_see_their_writes_through_a_replica_behind(
    api: Api, replica: Replication
) -> None:
    world = World(api)
    eventually(lambda: _replica(api).in_rotation, what="the replica in rotation")
    replica.pause_replay()
    person = f"late-{world.s}"
    created = api.client.post(
        "/scim/v2/Users",
        json=user(person),
        headers={"Authorization": f"Bearer {world.integration}"},
    )
    assert created.status_code == 201, created.text
    read = api.client.get(
        f"/scim/v2/Users/{created.json()['id']}",
        headers={"Authorization": f"Bearer {world.integration}"},
    )
    assert read.status_code == 200, read.text
    assert read.json()["userName"] == person


def test_the_web_page_after_a_write_shows_it_through_a_replica_behind(
    api: Api, replica: Replication
) -> None:
    world = World(api)
    eventually(lambda: _replica(api).in_rotation, what="the replica in rotation")
    replica.pause_replay()
    node_id, position = _propose(world, "Shown after my own change")
    agreement_id = agreement_uuid(node_id)
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)
    # Any page: the replica as it is (it has not replayed the agreement).
    assert employee.get(f"/agreements/{agreement_id}").status_code == 404
    # The page after the person's own write waits for it, and reads where it is.
    page = employee.get(f"/agreements/{agreement_id}?recorded={position}")
    assert page.status_code == 200, page.text[:500]
    assert "Shown after my own change" in page.text


def test_a_stopped_replica_costs_no_request(api: Api, replica: Replication) -> None:
    world = World(api)
    world.propose()
    world.sync()
    eventually(lambda: _replica(api).in_rotation, what="the replica in rotation")
    replica.wait_replayed()
    failures: list[str] = []
    answered = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            response = api.post(LIST, token=world.manager)
            body = response.json()
            with lock:
                answered[0] += 1
                if response.status_code != 200 or "errors" in body:
                    failures.append(response.text[:300])
                elif len(body["data"]["agreements"]["edges"]) != 1:
                    failures.append(f"wrong answer: {body}")

    readers = [threading.Thread(target=read) for _ in range(6)]
    for reader in readers:
        reader.start()
    eventually(lambda: _replica(api).reads >= 20, what="reads on the replica")
    replica.stop_replica()  # mid-run, as a crash: connections in use break
    stopped_at = answered[0]
    eventually(lambda: answered[0] >= stopped_at + 30, what="reads after the stop")
    assert not _replica(api).in_rotation
    assert _readyz_replica(api)["in_rotation"] is False
    replica.start_replica()
    eventually(lambda: _replica(api).in_rotation, what="the replica back in rotation")
    back = _replica(api).reads
    eventually(lambda: _replica(api).reads > back + 5, what="reads on the replica again")
    stop.set()
    for reader in readers:
        reader.join(timeout=60)
    assert failures == []
    assert answered[0] > stopped_at + 30


def test_a_lagging_replica_is_reported_and_taken_out_of_rotation(replica: Replication) -> None:
    with serving(
        _schema_url(replica), read_database_url=replica.replica_url, read_max_lag_seconds=2
    ) as api:
        world = World(api)
        eventually(lambda: _replica(api).in_rotation, what="the replica in rotation")
        replica.pause_replay()
        started = time.monotonic()
        # Writes keep coming: the WAL the replica does not replay grows older.
        while _replica(api).in_rotation:
            world.propose()
            assert time.monotonic() - started < 30, "the lagging replica stayed in rotation"
            time.sleep(0.2)
        body = _readyz_replica(api)
        assert body["in_rotation"] is False
        assert body["lag_seconds"] >= 2  # rounded to 0.1 s
        assert "behind" in body["reason"]
        metrics = api.client.get("/metrics", headers={"Authorization": f"Bearer {world.hr}"}).text
        series = _series(metrics, _replica(api).name)
        assert series["crafting_read_replica_in_rotation"] == 0
        assert series["crafting_read_replica_lag_seconds"] > 2
        # Reads go to the primary meanwhile, and see everything.
        primary = _router(api).primary_reads
        edges = api.data(world.hr, LIST)["agreements"]["edges"]
        assert edges != []
        assert _router(api).primary_reads > primary
        replica.resume_replay()
        eventually(lambda: _replica(api).in_rotation, what="the replica back in rotation")
        assert _readyz_replica(api)["lag_seconds"] <= 2


def _series(metrics: str, replica: str) -> dict[str, float]:
    found = {}
    for line in metrics.splitlines():
        if line.startswith("crafting_read_replica_") and f'replica="{replica}"' in line:
            name, value = line.split("{", 1)[0], line.rsplit(" ", 1)[1]
            found[name] = float(value)
    return found


def test_a_replica_password_is_never_shown(
    replica: Replication, caplog: pytest.LogCaptureFixture
) -> None:
    password = "replica-pw-" + uuid4().hex
    gone = f"postgresql://reader:{password}@127.0.0.1:{free_port()}/postgres"
    caplog.set_level(logging.INFO)
    with serving(_schema_url(replica), read_database_url=gone) as api:
        world = World(api)
        status = _replica(api)
        assert not status.in_rotation
        assert status.reason is not None and status.reason.startswith("unreachable")
        readyz = api.client.get("/readyz").text
        metrics = api.client.get("/metrics", headers={"Authorization": f"Bearer {world.hr}"})
        assert api.data(world.hr, LIST)["agreements"]["edges"] == []  # the primary reads
    assert "reader" not in status.name
    for text in (readyz, metrics.text, caplog.text, repr(api.container.settings)):
        assert password not in text


KEPT_INSIGHTS = """query($p: Int) { insights(consistentWith: $p) {
  participation { rows { group count others } } } }"""


def test_kept_insights_show_a_write_while_the_replica_waits(replica: Replication) -> None:
    """The released insight tables are kept per process (infra.kept_insights) under the
    position read where the tables are read: a write is in the next answer even while
    the replica in rotation has not replayed it."""
    url = _schema_url(replica)
    with serving(url, read_database_url=replica.replica_url, insights_min_group=2) as api:
        eventually(lambda: _replica(api).in_rotation, what="the replica in rotation")
        org = Org(api)
        for team in ("qa", "web", "data"):
            for i in range(2):
                org.active(team, i)
        org.active("ops", 0)

        def qa() -> Any:
            found = api.data(org.hr, KEPT_INSIGHTS, p=api.position())["insights"]
            (row,) = [r for r in found["participation"]["rows"] if r["group"] == f"qa-{org.s}"]
            return row["count"]

        assert qa() == qa() == 2
        replica.pause_replay()
        try:
            org.active("qa", 2)
            assert qa() == 3
        finally:
            replica.resume_replay()
