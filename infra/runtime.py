"""Process-wide runtime settings of a serving process."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# CPython's default (700 allocations) starts a young collection every few hundred
# objects; loading a long agreement allocates tens of thousands, and the resulting
# full collections paused time-travel lookups by ~45 ms each (bench/RESULTS.md).
GC_YOUNG_THRESHOLD = 50_000


def tune_gc() -> tuple[int, int, int]:
    """Freeze what startup allocated (modules, classes, the schema) out of the cyclic
    collector's way, and collect the young generation less often; returns the previous
    thresholds. Most garbage here is freed by reference counting; the collector only
    finds cycles."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, previous[1], previous[2])
    return previous


@contextmanager
def tuned_gc() -> Iterator[None]:
    """`tune_gc` while the app runs; as before afterwards (apps started in tests)."""
    previous = tune_gc()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*previous)
