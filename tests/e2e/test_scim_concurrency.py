"""Concurrent SCIM writes against a running `crafting serve`, on both databases: ETags
let exactly one of many concurrent writers win, and the deactivation guard counts a
burst of concurrent deactivations exactly (none slips past the limit)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier
from typing import Any
from uuid import uuid4

import httpx2
import pytest

from tests.e2e.scim import SCIM_JSON, scim_process, user

WRITERS = 12


@pytest.fixture
def idp(database_url: str, tmp_path: Path) -> Iterator[httpx2.Client]:
    with scim_process(database_url, tmp_path) as (base, token):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON}
        with httpx2.Client(base_url=f"{base}/scim/v2", headers=headers, timeout=60) as client:
            yield client


def _all_at_once(work: list[Any]) -> list[Any]:
    """Run each zero-argument callable in its own thread, released together."""
    barrier = Barrier(len(work))

    def run(job: Any) -> Any:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(len(work)) as pool:
        return list(pool.map(run, work))


def test_concurrent_puts_with_the_same_if_match_have_exactly_one_winner(
    idp: httpx2.Client,
) -> None:
    pid = f"race-{uuid4().hex[:8]}"
    created = idp.post("/Users", json=user(pid))
    assert created.status_code == 201, created.text
    version = created.json()["meta"]["version"]

    def put(i: int) -> Any:
        return lambda: idp.put(
            f"/Users/{pid}", json=user(pid, department=f"team-{i}"), headers={"If-Match": version}
        )

    responses = _all_at_once([put(i) for i in range(WRITERS)])
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 412: WRITERS - 1}, [r.text for r in responses]
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    department = winner["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"]
    final = idp.get(f"/Users/{pid}").json()
    assert final["meta"]["version"] == winner["meta"]["version"] != version
    assert final["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] == {
        "employeeNumber": f"n-{pid}",
        "department": department,
    }
    # Without If-Match, scim2-server still writes against the version it read: of two
    # concurrent PATCHes of different attributes, none is silently lost — each either
    # shows in the final state or was answered 412.
    changes = [("displayName", "Renamed"), ("externalId", "ext-1")]
    patches = _all_at_once(
        [lambda a=a, v=v: idp.patch(f"/Users/{pid}", json=_replace(a, v)) for a, v in changes]
    )
    final = idp.get(f"/Users/{pid}").json()
    for response, (attribute, value) in zip(patches, changes, strict=True):
        assert response.status_code in (200, 412), response.text
        if response.status_code == 200:
            assert final[attribute] == value


def _replace(path: str, value: Any) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": path, "value": value}],
    }


def test_a_burst_of_concurrent_deletions_passes_the_guard_only_up_to_its_limit(
    idp: httpx2.Client,
) -> None:
    s = uuid4().hex[:6]
    ids = [f"b{i:02}-{s}" for i in range(20)]
    for pid in ids:
        assert idp.post("/Users", json=user(pid)).status_code == 201
    responses = _all_at_once([lambda pid=pid: idp.delete(f"/Users/{pid}") for pid in ids[:10]])
    statuses = Counter(r.status_code for r in responses)
    # 20% of 20 pass; the other six are held, however the requests interleave.
    assert statuses == {204: 4, 202: 6}, [r.text for r in responses]
    listed = idp.get("/Users", params={"filter": f'userName ew "{s}"'}).json()
    assert listed["totalResults"] == 16
    assert sum(1 for u in listed["Resources"] if u["active"]) == 16
