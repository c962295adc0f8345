"""Where a time-travel lookup's CPU time goes on a long agreement (CPU: the machine's
load does not enter it), step by step as `Repository.get(version=...)` takes them: read
the nearest snapshot, check its tag, decode it (transcoder, sealed values opened), build
the agreement from it, replay the events after it. And what the latest snapshot holds,
field by field (stored bytes)."""

from __future__ import annotations

import random
import time
from uuid import UUID

import orjson

from domain.agreement import Agreement
from domain.application import CraftingApplication
from domain.snapshots import TaggedSnapshotStore, opened

STEPS = ("read snapshot", "check tag", "decode", "build agreement", "replay after it")


def lookup_steps(
    app: CraftingApplication, aid: UUID, latest: int, samples: int, seed: int = 13
) -> dict[str, list[float]]:
    """CPU milliseconds of each step of `samples` lookups at random versions."""
    store = app.snapshots
    assert isinstance(store, TaggedSnapshotStore)
    assert store.key is not None
    rng = random.Random(seed)
    out: dict[str, list[float]] = {step: [] for step in STEPS}
    for _ in range(samples):
        version = rng.randint(1, latest)
        marks = [time.process_time()]
        rows = store.recorder.select_events(aid, lte=version, desc=True, limit=1)
        marks.append(time.process_time())
        inner = opened(store.key, rows[0]) if rows else None
        marks.append(time.process_time())
        snapshot = app.mapper.to_domain_event(inner) if inner else None
        marks.append(time.process_time())
        agreement: Agreement | None = snapshot.mutate(None) if snapshot else None  # type: ignore[attr-defined]
        marks.append(time.process_time())
        after = 0 if snapshot is None else snapshot.originator_version
        for event in app.events.get(aid, gt=after, lte=version):
            agreement = event.mutate(agreement)  # type: ignore[attr-defined]
        marks.append(time.process_time())
        assert agreement is not None
        assert agreement.version == version
        for step, begin, end in zip(
            STEPS, marks, marks[1:], strict=False
        ):  # marks: one more than steps
            out[step].append((end - begin) * 1000)
    return out


def latest_snapshot_fields(app: CraftingApplication, aid: UUID) -> dict[str, int]:
    """Stored bytes of each field of the agreement's latest snapshot, largest first."""
    store = app.snapshots
    assert isinstance(store, TaggedSnapshotStore)
    assert store.key is not None
    rows = store.recorder.select_events(aid, desc=True, limit=1)
    inner = opened(store.key, rows[0])
    assert inner is not None
    state = orjson.loads(inner.state)["state"]  # beside the snapshot's topic and time
    if isinstance(state, dict) and "_data_" in state:  # as the transcoder tags a dict
        state = state["_data_"]
    sizes = {name: len(orjson.dumps(value)) for name, value in state.items()}
    return dict(sorted(sizes.items(), key=lambda item: -item[1]))
