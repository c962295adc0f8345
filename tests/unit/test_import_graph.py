"""import-linter's contracts (pyproject.toml) cover every module of the service: a folder
of modules without `__init__.py` is invisible to its graph, so no contract would see it."""

from __future__ import annotations

from pathlib import Path

import grimp

REPO = Path(__file__).parents[2]
PACKAGES = ("domain", "projections", "api", "infra")


def test_every_module_of_the_packages_is_in_the_import_graph() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    modules = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    unseen = sorted(modules - graph.modules)
    assert unseen == [], f"modules no import contract sees: {unseen}"
    assert "api.web.app" in graph.modules
