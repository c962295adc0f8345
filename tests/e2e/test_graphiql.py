"""GraphiQL in development mode comes from the service itself: no CDN, so it works
offline; in production mode there is no IDE and no assets."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import serving

HTML = {"accept": "text/html"}


def test_graphiql_loads_only_from_the_service_in_development_mode(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path}/crafting.db", dev=True) as api:
        page = api.client.get("/graphql", headers=HTML)
        assert page.status_code == 200
        assert "://" not in page.text  # nothing from elsewhere
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert {a.rsplit("/", 1)[1] for a in assets} == {
            "graphiql.min.css",
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "start.js",
        }
        for asset in assets:
            got = api.client.get(asset)
            assert got.status_code == 200, asset
            assert len(got.content) > 100
        assert "Authorization" in api.client.get("/static/graphiql/start.js").text


def test_production_mode_serves_no_ide(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path}/crafting.db") as api:
        assert api.client.get("/graphql", headers=HTML).status_code == 401
        assert api.client.get("/static/graphiql/graphiql.min.js").status_code == 404
