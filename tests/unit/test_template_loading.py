"""Templates are read once per process: a cached template is not checked against its
file on every page or message (a `stat` of it and of every template it extends)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jinja2 import Environment

from api.web.assets import Assets
from api.web.site import templates
from infra.notifications.compose import environment


def _stats_on_reuse(env: Environment, name: str, monkeypatch: pytest.MonkeyPatch) -> int:
    env.get_template(name)  # loaded (and cached) once
    calls: list[str] = []
    real = os.path.getmtime

    def counted(path: str) -> float:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(os.path, "getmtime", counted)
    for _ in range(3):
        env.get_template(name)
    return len(calls)


def test_web_pages_reuse_their_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _stats_on_reuse(templates(Assets()), "agreement.html", monkeypatch) == 0


def test_mail_reuses_its_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    env = environment()
    name = sorted(p.name for p in Path(env.loader.searchpath[0]).iterdir())[0]  # type: ignore[union-attr]
    assert _stats_on_reuse(env, name, monkeypatch) == 0
