"""SCIM over HTTP for the tests: the service in-process, requests as an IdP sends them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from api.http.auth import mint_token
from domain.values import Role
from tests.e2e.conftest import Api
from tests.processes import eventually, free_port, get, running, service_env, start

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CRAFTING = "urn:crafting:params:scim:schemas:extension:crafting:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"


def user(
    user_name: str,
    *,
    manager: str | None = None,
    department: str | None = None,
    active: bool = True,
    hours: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A User body as IdPs send it (with attributes we do not keep, like `name`)."""
    body: dict[str, Any] = {
        "schemas": [CORE, ENTERPRISE],
        "userName": user_name,
        "name": {"givenName": user_name.title(), "familyName": "Tester"},
        "displayName": f"{user_name.title()} Tester",
        "emails": [{"value": f"{user_name}@example.com", "type": "work", "primary": True}],
        "active": active,
        ENTERPRISE: {"employeeNumber": f"n-{user_name}", "department": department},
        **extra,
    }
    if manager is not None:
        body[ENTERPRISE]["manager"] = {"value": manager}
    if hours is not None:
        body["schemas"].append(CRAFTING)
        body[CRAFTING] = {"contractedHoursPerWeek": hours}
    return body


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


@dataclass
class Scim:
    """An identity provider's view: a token and the /scim/v2 endpoints."""

    api: Api
    token: str
    s: str = field(default_factory=lambda: uuid4().hex[:8])

    def id(self, name: str) -> str:
        return f"{name}-{self.s}"

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {self.token}", "Content-Type": SCIM_JSON}
        sent.update(headers or {})
        return self.api.client.request(method, f"/scim/v2{path}", json=body, headers=sent)

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        response = self.request(method, path, body, **kw)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else None

    def create(self, name: str, **kw: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.ok("POST", "/Users", user(self.id(name), **kw))
        return created

    def get(self, pid: str) -> dict[str, Any]:
        got: dict[str, Any] = self.ok("GET", f"/Users/{pid}")
        return got

    def find(self, scim_filter: str) -> list[dict[str, Any]]:
        response = self.api.client.get(
            "/scim/v2/Users",
            params={"filter": scim_filter},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        resources: list[dict[str, Any]] = response.json().get("Resources", [])
        return resources


def integration(api: Api, name: str = "okta") -> Scim:
    return Scim(api, api.token(f"{name}-{uuid4().hex[:6]}", Role.INTEGRATION))


@contextmanager
def scim_process(database_url: str, tmp_path: Path, **env: str) -> Iterator[tuple[str, str]]:
    """A real `crafting serve` (projections inside it, on both databases): its base URL,
    and a token for an integration."""
    variables = service_env(
        database_url,
        CRAFTING_SERVE_PROJECTIONS="true",
        CRAFTING_RATE_LIMIT_PER_SECOND="0",
        **env,
    )
    port = free_port()
    serve = start(["serve", "--port", str(port)], variables, tmp_path / "serve")
    with running(serve):
        base = f"http://127.0.0.1:{port}"
        assert eventually(lambda: get(f"{base}/healthz")[0] == 200, 60), serve.output()
        secret = variables["CRAFTING_JWT_SECRET"]
        yield base, mint_token(secret, "scim-idp", [Role.INTEGRATION], timedelta(hours=1))


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The SCIM error body of a response, checked for its status and schema."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [ERROR], body
    assert body["status"] == str(status), body
    assert "Traceback" not in response.text
    return body
