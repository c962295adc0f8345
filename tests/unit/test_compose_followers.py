"""docker-compose.yml runs every follower of the log somewhere, as the one table
(infra/deployment.py FOLLOWERS) says where each runs: a follower no service runs would
leave its consumers (webhooks, e-mail, checkpoints) silently behind, and /readyz would
report it as never started."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from infra.deployment import FOLLOWERS, serve_groups
from infra.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
# The settings that decide which followers `crafting serve` runs in a process.
PLACEMENT = ("database_url", "serve_projections", "webhooks_run", "notify_run")
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def _value(raw: object) -> str:
    """A compose value with its ${NAME:-default} written as the default (what runs when
    the operator sets nothing) and ${NAME:?message} as a placeholder (compose refuses to
    start without it)."""
    return _INTERPOLATION.sub(lambda m: m.group(2) or "set", str(raw))


def _services() -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services: dict[str, dict[str, Any]] = loaded["services"]
    return services


def followers_run_by(service: dict[str, Any]) -> set[str]:
    """The followers a compose service's `crafting …` command runs."""
    command = service.get("command") or []
    if len(command) < 2 or command[0] != "crafting":
        return set()
    environment = {
        name.removeprefix("CRAFTING_").lower(): _value(value)
        for name, value in (service.get("environment") or {}).items()
    }
    settings = Settings(**{name: environment[name] for name in PLACEMENT if name in environment})
    if command[1] == "serve":
        groups = serve_groups(settings)
        return {role.name for role in FOLLOWERS if role.group in groups}
    return {role.name for role in FOLLOWERS if role.command == command[1]}


def test_every_follower_runs_in_some_compose_service() -> None:
    services = _services()
    running = {name: followers_run_by(service) for name, service in services.items()}
    everywhere = set().union(*running.values())
    missing = [role.name for role in FOLLOWERS if role.name not in everywhere]
    assert not missing, f"no service of docker-compose.yml runs {missing}: {running}"
    # The README's picture: the API serves only; a projector and a delivery worker follow.
    assert running["api"] == set()
    assert running["projector"] == {r.name for r in FOLLOWERS if r.command == "projector"}
    assert running["webhooks"] == {r.name for r in FOLLOWERS if r.command == "webhooks"}


def test_followers_get_the_keys_they_need() -> None:
    # The checkpoint follower signs with the signing key and every follower unwraps data
    # keys with the master key: a worker started without them would run without its
    # sealer, or fail on the first personal field.
    for name, service in _services().items():
        if not followers_run_by(service):
            continue
        environment = service.get("environment") or {}
        for needed in ("CRAFTING_DATABASE_URL", "CRAFTING_SIGNING_KEY", "CRAFTING_MASTER_KEY"):
            assert needed in environment, f"{name} runs followers without {needed}"


def test_a_service_that_drops_a_follower_command_is_noticed() -> None:
    # The check above reads the commands: without the webhooks service, webhook delivery
    # and e-mail run nowhere.
    services = _services()
    del services["webhooks"]
    everywhere = set().union(*(followers_run_by(s) for s in services.values()))
    assert "webhooks" not in everywhere and "notifications" not in everywhere
