"""Which followers of the log run where: the one table `crafting serve`, `crafting
projector` and `crafting webhooks` start from, and that `/readyz` and `/metrics` report.

- `crafting projector` runs the followers whose `command` is "projector"; `crafting
  webhooks` those whose command is "webhooks".
- `crafting serve` runs, in each of its processes, the followers of the group its
  settings turn on: "projections" with CRAFTING_SERVE_PROJECTIONS (default: on SQLite,
  where one process runs everything), "webhooks" with CRAFTING_WEBHOOKS_RUN (default:
  as projections), "notifications" with CRAFTING_NOTIFY_RUN (default: as webhooks). On
  PostgreSQL several may run any follower: one leads.
- A follower not `enabled` by the settings (no signing key: no sealer; no retention
  window nor key store: no retention) runs nowhere and is not reported.

A new consumer of the log (notifications, say) adds one row here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from infra.bootstrap import Container
from infra.followers import Follower
from infra.retention import Retention
from infra.secrets import jwt_secret
from infra.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Role:
    """One follower: its name, where it runs, and how it is built."""

    name: str
    command: str  # the `crafting` command that runs it on its own
    group: str  # the `serve` setting that runs it inside serve: projections, webhooks
    build: Callable[[Container], Follower]
    enabled: Callable[[Container], bool] = lambda _: True
    # /readyz judges it once it has run (the projector: always, reads depend on it)
    required: bool = False


def _has_signing_key(container: Container) -> bool:
    return container.trust.events_key is not None  # the events' key derives from it


def _checkpointer(container: Container) -> Follower:
    checkpointer = container.checkpointer()
    assert checkpointer is not None, "enabled only with a signing key"
    return checkpointer


def _notifications(container: Container) -> Follower:
    # The JWT secret signs the mails' unsubscribe links (any process can check them).
    return container.notifications(jwt_secret(container.settings, create=True)).follower


def _retention(container: Container) -> Follower:
    return container.follower("retention", dispatchers=(Retention(container),))


FOLLOWERS: tuple[Role, ...] = (
    Role("projector", "projector", "projections", lambda c: c.projector, required=True),
    # "sealer": the checkpoint follower's name, kept as it is: its position row,
    # /readyz and /metrics carry it.
    Role("sealer", "projector", "projections", _checkpointer, enabled=_has_signing_key),
    Role(
        "retention",
        "projector",
        "projections",
        _retention,
        enabled=lambda c: bool(
            c.settings.retention.days_after_leaving or c.settings.keys.keystore_url
        ),
    ),
    Role("webhooks", "webhooks", "webhooks", lambda c: c.webhooks),
    # E-mail goes out with the webhooks: `crafting webhooks` runs both outbound senders.
    Role("notifications", "webhooks", "notifications", _notifications),
)


def serve_groups(settings: Settings) -> frozenset[str]:
    """The groups of followers `crafting serve` runs in each of its processes."""
    projections = (
        settings.database.is_sqlite
        if settings.projections.serve is None
        else settings.projections.serve
    )
    webhooks = projections if settings.webhooks.run is None else settings.webhooks.run
    mail = webhooks if settings.notifications.run is None else settings.notifications.run
    groups = (("projections", projections), ("webhooks", webhooks), ("notifications", mail))
    return frozenset(group for group, on in groups if on)


def roles_for(command: str, container: Container) -> list[Role]:
    """The followers `command` (serve, projector, webhooks) runs with this container's
    settings."""
    if command == "serve":
        groups = serve_groups(container.settings)
        chosen = [role for role in FOLLOWERS if role.group in groups]
    else:
        chosen = [role for role in FOLLOWERS if role.command == command]
    return [role for role in chosen if role.enabled(container)]


def reported(container: Container) -> list[Role]:
    """The followers this deployment runs somewhere (what /readyz and /metrics report)."""
    return [role for role in FOLLOWERS if role.enabled(container)]


class Running:
    """Followers running, each in a thread of its own."""

    def __init__(self, followers: list[Follower]) -> None:
        self.followers = followers
        self.threads = [
            threading.Thread(target=f.run, name=f"follower-{f.name}", daemon=True)
            for f in followers
        ]

    def start(self) -> Running:
        """Start every follower."""
        for thread in self.threads:
            thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Ask every follower to stop, and wait (bounded) for them to finish."""
        for follower in self.followers:
            follower.stop()
        for thread in self.threads:
            thread.join(timeout=timeout)

    def wait(self) -> None:
        """Until every follower has stopped (`stop`, or a signal's handler)."""
        for thread in self.threads:
            while thread.is_alive():
                thread.join(timeout=1)


def start(command: str, container: Container) -> Running:
    """Build and start the followers `command` runs."""
    roles = roles_for(command, container)
    log.info("followers running here: %s", ", ".join(r.name for r in roles) or "none")
    return Running([role.build(container) for role in roles]).start()
