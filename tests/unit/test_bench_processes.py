"""A benchmark's server is stopped with every process it started: PostGraphile under npx
forks cluster workers that a signal to npx alone leaves running."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from bench.commands_e2e import spawn_group, stop_group
from tests.processes import children_of, pid_alive

# A leader that, like npx, does not pass SIGTERM on: it forks two workers and waits.
LEADER = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
workers = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"]) for _ in range(2)]
print(*[w.pid for w in workers], flush=True)
time.sleep(300)
"""


def test_stopping_a_server_stops_the_workers_it_forked(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    leader = spawn_group([sys.executable, "-c", LEADER], log)
    deadline = time.monotonic() + 30
    while len(children_of(leader.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = children_of(leader.pid)
    assert len(workers) == 2
    try:
        stop_group(leader, timeout=10)
        assert leader.poll() is not None
        time.sleep(0.2)
        assert [pid for pid in workers if pid_alive(pid)] == []
    finally:
        for pid in workers:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
