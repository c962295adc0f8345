"""Bulk seeding: a producer process makes the events (bench.seed.Workload) and turns
them into stored events, while this process inserts them, so making and inserting
overlap on the two cores. The events go through the application's own mapper and
recorder (`recorder.insert_events`), as `app.save` would store them."""

from __future__ import annotations

import multiprocessing as mp
import random
from collections.abc import Callable, Iterator
from copy import copy
from queue import Empty
from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent

from bench.seed import Workload
from domain.application import CraftingApplication
from domain.sealing import sealing_with
from infra.bootstrap import Container
from infra.database import create_engines
from infra.keystore import KeyRing, KeyStore
from infra.persistence import PoolSize

Chunks = Iterator[list[StoredEvent]]


def stored_chunks(
    mapper: Mapper[Any],
    events: int,
    chunk: int,
    people: int,
    live: int,
    seed: int,
    agreements: int | None = None,
    make: Callable[..., Any] = Workload,
) -> Chunks:
    """Lists of about `chunk` stored events, `events` in all (or until `agreements`
    have been proposed, or a finite workload ends); a command's events are never split
    across two lists. `make(rng, people=, live=)`: the workload (bench.seed.Workload)."""
    workload = make(random.Random(seed), people=people, live=live)
    pending: list[Any] = []
    made = 0
    for command in workload.commands():
        pending.extend(command)
        if agreements is not None and workload.proposed >= agreements:
            events = made + len(pending)
        if len(pending) >= chunk or made + len(pending) >= events:
            yield [mapper.to_stored_event(e) for e in pending]
            made += len(pending)
            pending = []
            if made >= events:
                return
    if pending:  # a finite workload's last events
        yield [mapper.to_stored_event(e) for e in pending]


def _produce(
    queue: Any,
    events: int,
    chunk: int,
    people: int,
    live: int,
    seed: int,
    agreements: int | None,
    keystore: tuple[str, bytes] | None,
    tag: bytes | None,
    make: Callable[..., Any],
) -> None:
    # The same transcodings as the service's application; the database only for the
    # data keys when the events are sealed, as the service seals them.
    keys = None
    if keystore is not None:
        url, master = keystore
        engines = create_engines(url, PoolSize(1, 1))
        # Cached for the whole run: no key changes while seeding (erasures come after).
        store = KeyStore(engines.writer, master, reader=engines.reader)
        keys = KeyRing(store, cache_seconds=float("inf"))
    app = CraftingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.mapper.key = tag  # tagged as the service tags what it writes (domain.event_tags)
    try:
        with sealing_with(keys):
            chunks = stored_chunks(app.mapper, events, chunk, people, live, seed, agreements, make)
            for stored in chunks:
                queue.put(stored)
    finally:
        queue.put(None)
        app.close()


def _from_process(
    events: int,
    chunk: int,
    people: int,
    live: int,
    seed: int,
    agreements: int | None,
    keystore: tuple[str, bytes] | None,
    tag: bytes | None,
    make: Callable[..., Any],
) -> Chunks:
    ctx = mp.get_context("spawn")  # no fork: the parent holds open database connections
    queue = ctx.Queue(maxsize=8)
    process = ctx.Process(
        target=_produce,
        args=(queue, events, chunk, people, live, seed, agreements, keystore, tag, make),
        daemon=True,
    )
    process.start()
    try:
        while True:
            try:
                stored = queue.get(timeout=1)
            except Empty:
                if not process.is_alive():
                    raise RuntimeError(f"the producer died (exit {process.exitcode})") from None
                continue
            if stored is None:
                return
            yield stored
    finally:
        process.join(5)
        if process.is_alive():
            process.terminate()


def _sealed(keys: KeyRing | None, chunks: Chunks) -> Chunks:
    with sealing_with(keys):  # the chunks are made as they are drawn
        yield from chunks


def seed_store(
    container: Container,
    events: int,
    *,
    chunk: int = 5000,
    people: int = 300,
    live: int = 2000,
    seed: int = 42,
    in_process: bool = False,
    on_progress: Callable[[int], None] | None = None,
    agreements: int | None = None,
    sealed: bool = False,
    tag: bytes | None = None,
    make: Callable[..., Any] = Workload,
) -> int:
    """Insert `events` realistic events (or as many as it takes to propose
    `agreements`), their personal data sealed as the service seals it when `sealed`;
    returns how many were inserted. `tag`: the service's events key (infra.signing's
    `tag_key(key, "events")`), so that a checkpoint may cover the seeded events. `make`:
    the workload, picklable (it is built in the producer process)."""
    recorder = container.app.recorder
    keys = container.keys if sealed else None
    if in_process:
        mapper = copy(container.app.mapper)
        mapper.key = tag
        with sealing_with(keys):
            chunks: Chunks = iter(
                list(stored_chunks(mapper, events, chunk, people, live, seed, agreements, make))
            )
    else:
        keystore = (container.settings.database.url, keys.store.master_key) if keys else None
        chunks = _from_process(events, chunk, people, live, seed, agreements, keystore, tag, make)
    written = 0
    for stored in chunks:
        recorder.insert_events(stored)
        written += len(stored)
        if on_progress is not None:
            on_progress(written)
    return written
