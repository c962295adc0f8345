"""Process-wide runtime settings of a serving process."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

# CPython's default (700 allocations) starts a young collection every few hundred
# objects; loading a long agreement allocates tens of thousands, and the resulting
# full collections paused time-travel lookups by ~45 ms each. Measured (bench/RESULTS.md):
# 5,000 takes time travel's p99 from 81 to 17 ms; larger values gained no more and let
# the resolvers' garbage grow serve's RSS under read load (403 MiB untuned, 511 at
# 5,000, 624 at 10,000, 681 at 50,000).
GC_YOUNG_THRESHOLD = 5_000


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


# Set by `crafting serve --workers N` (N > 1) to its own pid, for the worker processes.
SUPERVISOR_PID_VARIABLE = "CRAFTING_SUPERVISOR_PID"


def exit_with_supervisor(poll_seconds: float = 1.0, grace_seconds: float = 10.0) -> None:
    """In a worker process of `serve --workers N`: shut down when the supervising
    process dies (killed with SIGKILL it cannot stop its workers, which would keep
    serving the port as orphans). A daemon thread watches the parent process id; on a
    change it asks this process to stop (SIGTERM: uvicorn's graceful shutdown) and
    ends it if that takes longer than `grace_seconds`."""
    supervisor = os.environ.get(SUPERVISOR_PID_VARIABLE)
    if supervisor is None or not supervisor.isdigit() or int(supervisor) == os.getpid():
        return
    expected = int(supervisor)

    def watch() -> None:
        while os.getppid() == expected:
            time.sleep(poll_seconds)
        log.warning("the serve supervisor (pid %s) is gone: this worker stops", expected)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()
