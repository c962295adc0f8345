"""Real `crafting` processes for tests of start-up, faults and shutdown."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(database_url: str, **variables: str) -> dict[str, str]:
    """The environment of a service process on `database_url`."""
    return {
        **os.environ,
        "CRAFTING_DATABASE_URL": database_url,
        "CRAFTING_JWT_SECRET": secrets.token_urlsafe(48),
        "CRAFTING_LOG_LEVEL": "WARNING",
        **variables,
    }


@dataclass
class Crafting:
    """One `crafting …` process, its output in a file."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.alive:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def crafting_command() -> list[str]:
    """How the tests run `crafting`: CRAFTING_TEST_SERVICE_COMMAND when set (CI points it
    at the executable a wheel installed in a fresh venv, as the image has it), else
    `python -m api.cli` from this checkout."""
    configured = os.environ.get("CRAFTING_TEST_SERVICE_COMMAND", "").strip()
    return shlex.split(configured) if configured else [sys.executable, "-m", "api.cli"]


def start(args: list[str], env: dict[str, str], log: Path, cwd: Path = REPO) -> Crafting:
    """Start `crafting ARGS` (see `crafting_command`) in `cwd`, the repository by default."""
    out = log.open("wb")
    process = subprocess.Popen(
        [*crafting_command(), *args],
        env=env,
        cwd=cwd,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    return Crafting(process, log)


@contextmanager
def running(*processes: Crafting) -> Iterator[None]:
    """Stop every process at the end, whatever happened."""
    try:
        yield
    finally:
        for process in processes:
            process.stop()


def get(url: str, timeout: float = 5) -> tuple[int, dict[str, Any]]:
    """GET a JSON endpoint: (status, body); (0, {}) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (urllib.error.URLError, OSError):
        return 0, {}


def eventually(check: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Whether `check` holds within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def children_of(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
