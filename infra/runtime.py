"""Process-wide runtime settings of a serving process."""

from __future__ import annotations

import gc

# CPython's default (700 allocations) starts a young collection every few hundred
# objects; loading a long agreement allocates tens of thousands, and the resulting
# full collections paused time-travel lookups by ~45 ms each (bench/RESULTS.md).
GC_YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Freeze what startup allocated (modules, classes, the schema) out of the cyclic
    collector's way, and collect the young generation less often. Most garbage here is
    freed by reference counting; the collector only finds cycles."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)
