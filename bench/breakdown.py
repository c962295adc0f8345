"""Where a rebuild spends its time, measured from outside the projector: its fetches, its
decoding and the projector's phases are wrapped with timers for the duration of one
`with Breakdown(container.projector):` block (a few timer calls per batch, so the figures it wraps
stay comparable). Nothing in projections/ is changed."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import infra.followers.read_models as read_models_module
from bench.report import postgres_cpu_seconds
from infra.followers import Follower
from projections.projector import BatchProjector

F = TypeVar("F", bound=Callable[..., Any])
PHASES = ("fetch", "decode", "preload", "project", "flush", "other")


class Breakdown:
    def __init__(self, runner: Follower) -> None:
        self.runner = runner
        self.seconds: dict[str, float] = defaultdict(float)
        self.started = self.total = 0.0
        self.python_cpu = self.postgres_cpu = 0.0  # CPU seconds of the whole process / server

    def _timed(self, phase: str, func: F) -> F:
        seconds = self.seconds

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                seconds[phase] += time.perf_counter() - began

        return wrapper  # type: ignore[return-value]

    def __enter__(self) -> Breakdown:
        runner, timed = self.runner, self._timed
        runner.recorder.select_notifications = timed(  # type: ignore[method-assign]
            "fetch", runner.recorder.select_notifications
        )
        runner.decode = timed("decode", runner.decode)  # type: ignore[method-assign]
        seconds = self.seconds

        class TimedProjector(BatchProjector):
            def project(self, items: Sequence[tuple[int, Any]]) -> None:
                began = time.perf_counter()
                super().project(items)
                seconds["apply"] += time.perf_counter() - began

            def _preload(self, events: list[Any]) -> None:
                timed("preload", super()._preload)(events)

            def flush(self) -> None:
                began = time.perf_counter()
                super().flush()
                elapsed = time.perf_counter() - began
                seconds["flush"] += elapsed
                seconds["apply"] += elapsed

        vars(read_models_module)["BatchProjector"] = TimedProjector
        self.python_cpu, self.postgres_cpu = time.process_time(), postgres_cpu_seconds()
        self.started = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.total = time.perf_counter() - self.started
        self.python_cpu = time.process_time() - self.python_cpu
        self.postgres_cpu = postgres_cpu_seconds() - self.postgres_cpu
        vars(read_models_module)["BatchProjector"] = BatchProjector
        del self.runner.recorder.select_notifications  # back to the class's method
        del self.runner.decode

    def shares(self) -> dict[str, float]:
        """Seconds per phase; `project` is the projector's in-memory work, `other` is
        everything unaccounted for (transactions, commits, the state row, progress)."""
        s = self.seconds
        project = s["apply"] - s["preload"] - s["flush"]
        known = s["fetch"] + s["decode"] + s["apply"]
        return {
            "fetch": s["fetch"],
            "decode": s["decode"],
            "preload": s["preload"],
            "project": project,
            "flush": s["flush"],
            "other": max(0.0, self.total - known),
        }
