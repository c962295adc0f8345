"""The integration guide's write recipe (docs/integration.md, between the `recipe`
markers) runs as written against the service: the same Python, the same GraphQL
documents, only its HTTP calls routed to the app in-process."""

from __future__ import annotations

import re
import threading
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.webhooks_support import subscribe, webhook_service
from tests.e2e.world import World
from tests.processes import eventually, free_port

GUIDE = Path(__file__).parents[2] / "docs" / "integration.md"


def test_the_write_recipe_runs_against_the_service(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRAFTING_URL", "http://testserver")
    monkeypatch.setenv("HR_TOKEN", api.token("hr-lead", Role.HR))
    monkeypatch.setenv("SAM_TOKEN", api.token("sam-tester", Role.EMPLOYEE))
    monkeypatch.setenv("PRIYA_TOKEN", api.token("priya-raman", Role.MANAGER, Role.EMPLOYEE))

    def post(url: str, **kw: Any) -> httpx.Response:
        assert url == "http://testserver/graphql"
        kw.pop("timeout", None)
        response: httpx.Response = api.client.post("/graphql", **kw)
        return response

    monkeypatch.setattr(httpx, "post", post)
    scope: dict[str, Any] = {"__name__": "recipe"}
    exec(compile(_block("recipe"), str(GUIDE), "exec"), scope)
    read, history = scope["read"], scope["history"]["edges"]
    assert read["status"] == "ACTIVE"
    assert [r["status"] for r in read["reallocations"]] == ["REVERTED"]
    assert [r["outcome"] for r in read["reviews"]] == ["ON_TRACK"]
    assert read["developmentHoursPerWeek"] == 2
    types = [e["node"]["type"] for e in history]
    assert types == ["ReviewRecorded", "ChangeReverted", "TaskReallocated", "Approved", "Proposed"]
    # Each mutation's position is its agreement event in the history, as the guide says.
    positions = {e["node"]["position"] for e in history}
    for step in ("proposed", "approved", "moved", "reverted", "reviewed"):
        assert scope[step]["position"] in positions, step
    assert "ACTIVE" in capsys.readouterr().out


def _block(name: str) -> str:
    text = GUIDE.read_text()
    found = re.search(
        rf"<!-- {name}:start -->\s*```python\n(.*?)```\s*<!-- {name}:end -->", text, re.S
    )
    assert found is not None, f"the {name} block is missing from docs/integration.md"
    return found.group(1)


def test_the_local_webhook_receiver_accepts_real_deliveries_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The two settings the guide names (and the worker inside serve, as on the default).
    with webhook_service(
        f"sqlite:///{tmp_path}/crafting.db", dev=True, webhooks_allow_private=True
    ) as api:
        world = World(api)
        port = free_port()
        created = subscribe(api, world.integration, f"http://127.0.0.1:{port}/hooks")
        monkeypatch.setenv("WEBHOOK_SECRET", created["secret"])
        scope: dict[str, Any] = {"__name__": "receiver"}
        exec(compile(_block("receiver"), str(GUIDE), "exec"), scope)
        server = HTTPServer(("127.0.0.1", port), scope["Receiver"])
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            agreement = world.propose()
            assert eventually(lambda: "Proposed" in capsys.readouterr().out, 60)
            assert agreement["id"]
            # A forged delivery is refused.
            forged = httpx.post(
                f"http://127.0.0.1:{port}/hooks",
                content=b"{}",
                headers={"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
            )
            assert forged.status_code == 400
        finally:
            server.shutdown()
            server.server_close()
        assert scope["seen"]  # it remembered what it applied
