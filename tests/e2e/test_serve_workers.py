"""`crafting serve --workers N` keeps workers that are slow to start (as on a loaded
machine), and replaces a worker that exits or hangs, saying which in its log."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.processes import (
    Crafting,
    children_of,
    eventually,
    free_port,
    get,
    pid_alive,
    running,
    service_env,
    start,
)

# Makes every spawned worker take 8 s before it can run Python code of its own, as
# starting Python and importing the service took on a loaded two-core machine (where
# uvicorn's 5 s health check killed workers in the middle of their start-up).
SLOW_START = """
import sys, time
if "--multiprocessing-fork" in sys.argv:
    time.sleep(8)
"""


def _workers(serve: Crafting) -> list[int]:
    return [
        pid
        for pid in children_of(serve.process.pid)
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def _serve(tmp_path: Path, **variables: str) -> tuple[Crafting, str]:
    port = free_port()
    env = service_env(f"sqlite:///{tmp_path}/crafting.db", **variables)
    serve = start(["serve", "--workers", "2", "--port", str(port)], env, tmp_path / "serve")
    return serve, f"http://127.0.0.1:{port}/healthz"


def test_workers_slow_to_start_are_given_the_time(tmp_path: Path) -> None:
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(SLOW_START)
    path = os.pathsep.join([str(slow), os.environ.get("PYTHONPATH", "")])
    serve, health = _serve(tmp_path, PYTHONPATH=path, CRAFTING_LOG_LEVEL="INFO")
    with running(serve):
        assert eventually(lambda: len(_workers(serve)) == 2, 30, interval=0.05)
        first = set(_workers(serve))
        assert eventually(lambda: get(health)[0] == 200, 60), serve.output()
        assert eventually(lambda: serve.output().count("Application startup complete") == 2, 30)
        assert set(_workers(serve)) == first, serve.output()  # none was replaced
        assert "died" not in serve.output()
        assert "did not answer" not in serve.output()


def test_a_worker_that_exits_or_hangs_is_replaced_and_the_log_says_why(tmp_path: Path) -> None:
    serve, health = _serve(tmp_path)
    with running(serve):
        assert eventually(lambda: get(health)[0] == 200, 60), serve.output()
        assert eventually(lambda: len(_workers(serve)) == 2, 30)
        killed, stopped = _workers(serve)
        os.kill(killed, signal.SIGKILL)
        assert eventually(lambda: "killed by SIGKILL" in serve.output(), 20), serve.output()
        assert f"worker {killed} exited (killed by SIGKILL); starting another" in serve.output()

        os.kill(stopped, signal.SIGSTOP)  # alive, but answers nothing
        assert eventually(lambda: f"worker {stopped} did not answer" in serve.output(), 30), (
            serve.output()
        )
        assert "(hung); starting another" in serve.output()
        assert eventually(lambda: not pid_alive(stopped), 10)
        assert eventually(lambda: len(_workers(serve)) == 2 and get(health)[0] == 200, 60), (
            serve.output()
        )
