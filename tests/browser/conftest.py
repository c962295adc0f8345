"""What the browser tests share: Debian's chromium, and a real `crafting serve` with a
GraphQL client for setting the scene."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from api.graphql.ids import agreement_uuid
from api.http.auth import mint_token
from api.web.sessions import mint_link
from domain.values import Role
from tests.conftest import REQUIRE_POSTGRES, postgres_schema_url
from tests.processes import eventually, free_port, get, running, service_env, start

REQUIRED = os.environ.get("CRAFTING_REQUIRE_TOOLS") == "1"  # CI: never skipped
CHROMIUM = os.environ.get("CRAFTING_CHROMIUM", "/usr/bin/chromium")
MUTATE = """mutation($input: %s!) { %s(input: $input) {
  %s userErrors { field message code } } }"""


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A browser test runs on one store: PostgreSQL when a server is given (CI), else the
    SQLite default. What a page reads and writes is tested on both stores by
    tests/e2e/test_web*.py; the browser adds what the page does in a browser, which the
    store does not change — and a real service and chromium per test are the suite's
    slowest part. The two journeys (test_web_journey, test_web_story) still run on both."""
    if os.environ.get("CRAFTING_TEST_POSTGRES_URL") or REQUIRE_POSTGRES:
        return postgres_schema_url(request.getfixturevalue("postgres_database_url"))
    return f"sqlite:///{tmp_path}/crafting.db"


@pytest.fixture
def chromium() -> str:
    if not shutil.which(CHROMIUM):
        if REQUIRED:
            pytest.fail(f"the browser tests need chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"needs chromium at {CHROMIUM}")
    return CHROMIUM


class Service:
    """A running `crafting serve` and a GraphQL client for setting the scene."""

    def __init__(self, base: str, secret: str) -> None:
        self.base, self.secret = base, secret

    def gql(self, sub: str, role: Role, name: str, kind: str, picked: str, **input: Any) -> Any:
        token = mint_token(self.secret, sub, [role, Role.EMPLOYEE], timedelta(minutes=5))
        response = httpx.post(
            f"{self.base}/graphql",
            json={"query": MUTATE % (kind, name, picked), "variables": {"input": input}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        payload = response.json()["data"][name]
        assert payload["userErrors"] == [], payload
        return payload

    def approved(self, employee: str, manager: str, title: str, *, hours: int, most: int) -> str:
        """An agreement `employee` proposed ("Write a brief", `hours` a week, aiming at
        Product manager) and `manager` approved with at most `most` hours: its UUID."""
        agreement = self.gql(
            employee,
            Role.EMPLOYEE,
            "proposeAgreement",
            "ProposeAgreementInput",
            "agreement { id }",
            title=title,
            careerGoal={"targetRole": "Product manager", "skills": ["roadmapping"]},
            adjustments=[{"kind": "TASK", "description": "Write a brief", "hoursPerWeek": hours}],
        )["agreement"]
        aid = str(agreement_uuid(agreement["id"]))
        self.gql(
            manager,
            Role.MANAGER,
            "approveAgreement",
            "ApproveAgreementInput",
            "agreement { version }",
            agreementId=aid,
            guardrails={"maxDevelopmentHoursPerWeek": most, "reviewEveryDays": 14},
        )
        return aid

    def team(
        self, *keys: str, names: dict[str, str] | None = None, team: str = "team"
    ) -> tuple[str, dict[str, str]]:
        """People of one new team in the directory, all reporting to "mgr" (one of
        `keys`), with fresh ids: (the ids' suffix, key → person id). A name in `names`
        is shown with the suffix; others are their id, title-cased."""
        s = uuid4().hex[:8]
        ids = {k: f"{k}-{s}" for k in keys}
        shown = names or {}
        self.gql(
            f"hr-{s}",
            Role.HR,
            "upsertPeople",
            "UpsertPeopleInput",
            "people { personId }",
            people=[
                {
                    "id": ids[k],
                    "displayName": f"{shown[k]} {s}" if k in shown else ids[k].title(),
                    "email": f"{ids[k]}@example.com",
                    "managerId": None if k == "mgr" else ids["mgr"],
                    "teamId": f"{team}-{s}",
                    "contractedHoursPerWeek": 40,
                }
                for k in keys
            ],
        )
        return s, ids

    def link(self, sub: str, *roles: Role) -> str:
        return f"{self.base}/login/{mint_link(self.secret, sub, list(roles) or [Role.EMPLOYEE])}"


@pytest.fixture
def service_variables() -> dict[str, str]:
    """More of the service's environment: a test module overrides this fixture."""
    return {}


@pytest.fixture
def service(
    database_url: str, tmp_path: Path, service_variables: dict[str, str]
) -> Iterator[Service]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(
        database_url,
        CRAFTING_SERVE_PROJECTIONS="true",
        CRAFTING_RATE_LIMIT_PER_SECOND="0",
        CRAFTING_PUBLIC_URL=base,
        **service_variables,
    )
    serve = start(["serve", "--port", str(port)], env, tmp_path / "serve", cwd=tmp_path)
    with running(serve):
        assert eventually(lambda: get(f"{base}/healthz")[0] == 200, 60), serve.output()
        yield Service(base, env["CRAFTING_JWT_SECRET"])
    assert "Traceback" not in serve.output()
