"""Fuzzing with schemathesis against the committed GraphQL schema: whatever a client
sends, no server error and no internal message comes back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api.app import create_app
from api.http.auth import mint_token
from domain.values import Role
from infra.bootstrap import bootstrap
from infra.secrets import jwt_secret
from infra.settings import Settings

schema = schemathesis.graphql.from_path(Path(__file__).parents[2] / "schema.graphql")


@pytest.fixture(scope="module")
def hr_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    container = bootstrap(Settings(database_url=f"sqlite:///{path}"))
    app = create_app(container)
    token = mint_token(
        jwt_secret(container.settings, create=True), "fuzzer", [Role.HR], timedelta(hours=1)
    )
    with TestClient(app) as client:
        yield client, token
    container.close()


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_server_fail(case: Any, hr_client: tuple[TestClient, str]) -> None:
    client, token = hr_client
    response = client.post(
        "/graphql", json={"query": case.body}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code < 500, response.text
    body = response.json()
    messages = [e.get("message", "") for e in body.get("errors") or []]
    assert "Unexpected error." not in messages, (case.body, body)
    assert "Traceback" not in response.text
