"""The service over HTTP (the ASGI app in-process), on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.http.auth import mint_token
from domain.values import Role
from infra.bootstrap import Container, bootstrap
from infra.secrets import jwt_secret
from infra.settings import Settings


@dataclass
class Api:
    client: TestClient
    container: Container
    secret: str
    # Where tokens come from: our secret (HS256), or an identity provider.
    tokens: Callable[..., str] | None = None

    def token(self, sub: str, *roles: Role) -> str:
        if self.tokens is not None:
            return self.tokens(sub, *roles)
        return mint_token(self.secret, sub, list(roles), timedelta(hours=1))

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )

    def gql(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        """POST a query; the decoded body (asserting HTTP 200)."""
        response = self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a query that must not fail."""
        body = self.gql(token, query, **variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def position(self) -> int:
        return self.container.app.recorder.max_notification_id() or 0


@contextmanager
def serving(database_url: str, **overrides: Any) -> Iterator[Api]:
    """The app in-process on `database_url`, with settings overridden."""
    secret = None if database_url.startswith("sqlite") else "e2e-" + uuid4().hex + uuid4().hex
    given: dict[str, Any] = {
        "serve_projections": True,
        "jwt_secret": secret,
        "rate_limit_per_second": 0,  # tests drive many requests per caller on purpose
    } | overrides
    settings = Settings(database_url=database_url, **given)
    container = bootstrap(settings)
    app = create_app(container)
    with TestClient(app) as client:
        yield Api(client, container, jwt_secret(settings, create=True))
    container.close()


@pytest.fixture
def api(prepared_database_url: str) -> Iterator[Api]:
    """The service on each database in turn (each test a database of its own, copied
    from one the service already started on: see `prepared_database_url`)."""
    with serving(prepared_database_url) as served:
        yield served


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    """The service on its embedded default, for what only exists there (key files)."""
    with serving(f"sqlite:///{tmp_path}/crafting.db") as served:
        yield served
