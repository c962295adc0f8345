"""`crafting serve` started as a newcomer starts it: from an empty directory, with no
settings but the public URL and development mode. CI runs this file against the
`crafting` a wheel installed in a fresh venv (CRAFTING_TEST_SERVICE_COMMAND, see
.ci/run), so a file the wheel leaves out fails here as it would in the image."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import httpx

from infra import migrations
from tests.processes import crafting_command, eventually, free_port, get, running, start


def _newcomer_env(base: str) -> dict[str, str]:
    """The environment with none of the service's settings but its URL and dev mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRAFTING_")}
    return {**env, "CRAFTING_PUBLIC_URL": base, "CRAFTING_DEV": "1"}


def _crafting(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [*crafting_command(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _linked(page: str, pattern: str) -> list[str]:
    return re.findall(pattern, page)


def test_serve_from_an_empty_directory_serves_the_web_app_and_graphiql(tmp_path: Path) -> None:
    home = tmp_path / "empty"
    home.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _newcomer_env(base)
    serve = start(["serve", "--port", str(port)], env, tmp_path / "serve.log", cwd=home)
    with running(serve), httpx.Client(base_url=base, timeout=30) as client:
        assert eventually(lambda: get(f"{base}/healthz")[0] == 200, 60), serve.output()
        assert (home / "crafting.db").exists()  # its data went where it was started
        with sqlite3.connect(home / "crafting.db") as db:  # `serve` ran the migrations
            (revision,) = db.execute("SELECT version_num FROM crafting_schema_version").fetchone()
        assert revision == migrations.SERVICE.head()

        signin = client.get("/signin")
        assert signin.status_code == 200, signin.text
        assert "Sign in" in signin.text
        stylesheets = _linked(signin.text, r'<link rel="stylesheet" href="([^"]+)"')
        scripts = _linked(signin.text, r'<script src="([^"]+)"')
        assert stylesheets and scripts, signin.text
        for asset in stylesheets + scripts:
            loaded = client.get(asset)
            assert loaded.status_code == 200, asset
            assert loaded.content, asset
        assert client.get(stylesheets[0]).headers["content-type"].startswith("text/css")

        printed = _crafting(["demo"], env, home)
        links = re.findall(rf"{re.escape(base)}/login/\S+", printed)
        assert links, printed
        confirm = client.get(links[0])
        assert confirm.status_code == 200, confirm.text
        assert "Sign in as" in confirm.text
        signed_in = client.post(links[0], follow_redirects=True)
        assert signed_in.status_code == 200, signed_in.text
        assert "Sign out" in signed_in.text

        graphiql = client.get("/graphql", headers={"Accept": "text/html"})
        assert graphiql.status_code == 200, graphiql.text
        assert "GraphiQL" in graphiql.text
        assets = _linked(graphiql.text, r'(?:src|href)="(/static/graphiql/[^"]+)"')
        assert len(assets) >= 4, graphiql.text
        for asset in assets:
            loaded = client.get(asset)
            assert loaded.status_code == 200, asset
            assert loaded.content, asset

        token = _crafting(["token", "--sub", "hr-demo", "--role", "HR"], env, home).strip()
        answer = client.post(
            "/graphql",
            json={"query": "{ viewer { id } agreements(first: 1) { edges { node { title } } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        data = answer.json()["data"]
        assert data["viewer"]["id"] == "hr-demo"
        assert data["agreements"]["edges"], data
    assert "Traceback" not in serve.output(), serve.output()
