"""Webhook delivery with real worker processes: killed with SIGKILL in the middle of a
delivery, and two workers at once on PostgreSQL."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

from domain.access import Actor
from domain.application import Request
from domain.application.commands import CreateWebhookSubscription, DirectoryEntry, UpsertPeople
from domain.person import Profile
from domain.values import Role
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from infra.webhooks.sender import WRITE_EVERY
from tests.e2e.webhooks_support import FAST
from tests.processes import Crafting, eventually, running, service_env, start
from tests.webhook_receiver import in_order_per_agreement, receiving

INTEGRATION = Actor("hris-sync", frozenset({Role.INTEGRATION}))


@contextmanager
def writer(database_url: str) -> Iterator[Container]:
    """The service's application, to write events and subscribe (no workers here)."""
    built = bootstrap(Settings(database_url=database_url, **FAST))
    built.prepare()
    try:
        yield built
    finally:
        built.close()


def worker(database_url: str, log: Path) -> Crafting:
    variables = {f"CRAFTING_{k.upper()}": str(v) for k, v in FAST.items()}
    return start(["webhooks"], service_env(database_url, **variables), log)


def push_people(container: Container, rounds: int, people: int, tag: str) -> list[int]:
    """Directory changes of `people` persons, `rounds` times: the positions written."""
    positions = []
    for r in range(rounds):
        entries = [
            DirectoryEntry(
                f"{tag}-{p}",
                Profile(f"Person {p} v{r}", f"p{p}@example.com", None, "qa", 40.0, True),
            )
            for p in range(people)
        ]
        result = container.app.execute(
            Request(INTEGRATION, f"push-{r}"), UpsertPeople(people=entries)
        )
        positions += list(range(result.position - people + 1, result.position + 1))
    return positions


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_receiver_accepts_each_once(
    database_url: str, tmp_path: Path
) -> None:
    tag = uuid4().hex[:6]
    with writer(database_url) as container, receiving(hold_at=5) as receiver:
        outcome = container.app.execute(
            Request(INTEGRATION, "subscribe"),
            CreateWebhookSubscription(url=receiver.url, event_types=["*"]),
        )
        receiver.secrets = [outcome.secret or ""]
        positions = push_people(container, rounds=4, people=5, tag=tag)
        first = worker(database_url, tmp_path / "first.log")
        with running(first):
            assert receiver.held.wait(90), first.output()
            first.stop(signal.SIGKILL)  # while the fifth delivery is in flight
        held_id = receiver.ids()[4]
        receiver.release.set()
        second = worker(database_url, tmp_path / "second.log")
        with running(second):
            assert eventually(lambda: len(receiver.accepted) >= len(positions), 120), (
                second.output()
            )
        assert sorted(b["position"] for b in receiver.accepted) == sorted(positions)
        assert [b["position"] for b in receiver.accepted] == sorted(positions)
        assert in_order_per_agreement(receiver.accepted)
        # At least once: the message in flight was sent again (with those whose outcome
        # was not written yet, at most WRITE_EVERY); the receiver's dedup on
        # webhook-id makes it exactly once.
        assert held_id in receiver.duplicates
        assert len(receiver.duplicates) <= WRITE_EVERY


def test_two_workers_on_postgres_deliver_nothing_twice(postgres_url: str, tmp_path: Path) -> None:
    tag = uuid4().hex[:6]
    with writer(postgres_url) as container, receiving() as receiver:
        outcome = container.app.execute(
            Request(INTEGRATION, "subscribe"),
            CreateWebhookSubscription(url=receiver.url, event_types=["*"]),
        )
        receiver.secrets = [outcome.secret or ""]
        one = worker(postgres_url, tmp_path / "one.log")
        two = worker(postgres_url, tmp_path / "two.log")
        three = None
        try:
            positions = push_people(container, rounds=10, people=10, tag=tag)
            assert eventually(lambda: len(receiver.accepted) >= len(positions), 120), (
                one.output() + two.output()
            )
            # Both workers ran all along: one led, nothing was sent twice.
            assert receiver.duplicates == []
            # Kill one worker, then (with a third started) the other: whichever led,
            # the leader dies at least once and another takes over.
            one.stop(signal.SIGKILL)
            positions += push_people(container, rounds=3, people=10, tag=tag)
            assert eventually(lambda: len(receiver.accepted) >= len(positions), 120)
            three = worker(postgres_url, tmp_path / "three.log")
            two.stop(signal.SIGKILL)
            positions += push_people(container, rounds=3, people=10, tag=tag)
            assert eventually(lambda: len(receiver.accepted) >= len(positions), 120), three.output()
        finally:
            for process in (one, two, three):
                if process is not None:
                    process.stop()
        assert [b["position"] for b in receiver.accepted] == sorted(positions)
        # Each kill may send again what the killed leader delivered but had not
        # written yet (at least once; at most WRITE_EVERY a kill), never more.
        assert len(receiver.duplicates) <= 2 * WRITE_EVERY
        assert receiver.requests == len(positions) + len(receiver.duplicates)
