"""`crafting serve --workers N`: uvicorn's supervisor, patient with workers that are still
starting and saying why it replaces one.

uvicorn's own supervisor pings every worker every half second and kills one that does not
answer within 5 s, logging only "Child process [N] died". A spawned worker cannot answer
before it has started Python and imported the service (about a second of CPU, 6 to 10 s
of wall time on a loaded two-core machine), so under load it killed workers in the middle
of their start-up, again and again. Here a worker has `startup_seconds` to answer its
first ping; after that, a worker that stops answering or exits is replaced, and the log
says which happened (and the exit code or signal)."""

from __future__ import annotations

import logging
import signal
import time

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger("uvicorn.error")  # where uvicorn's supervisor logs
STARTUP_SECONDS = 120.0


def exit_reason(code: int | None) -> str:
    """An exit code in words: `exit code 1`, `killed by SIGKILL`."""
    if code is None:
        return "no exit code"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Supervisor(Multiprocess):
    """uvicorn's `Multiprocess`, with a start-up allowance and the reason in the log."""

    def __init__(self, config: Config, sockets: list[object], startup_seconds: float) -> None:
        super().__init__(config, sockets)  # type: ignore[arg-type]
        self.startup_seconds = startup_seconds
        self.started_at: dict[int, float] = {}  # id(process) → when it was started
        self.pinged: set[int] = set()  # starting workers sent their first ping
        self.answered: set[int] = set()  # workers that have answered once

    def init_processes(self) -> None:
        """Start the workers, noting when."""
        super().init_processes()
        for process in self.processes:
            self.started_at[id(process)] = time.monotonic()

    def keep_subprocess_alive(self) -> None:
        """Replace each worker that exited or, once started, stopped answering."""
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            problem = self._problem(process)
            if problem is None:
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # the app cannot start: nor will another
                log.error("worker %s failed to start (%s); stopping", process.pid, problem)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.error("worker %s %s; starting another", process.pid, problem)
            replacement = Process(self.config, self.sockets)
            replacement.start()
            self.started_at[id(replacement)] = time.monotonic()
            self.processes[index] = replacement

    def _problem(self, process: Process) -> str | None:
        """Why the worker must be replaced; None while it is healthy or still starting."""
        if not process.process.is_alive():
            return f"exited ({exit_reason(process.process.exitcode)})"
        key = id(process)
        if key in self.answered:
            if process.ping(self.config.timeout_worker_healthcheck):
                return None
            return (
                f"did not answer the health check within "
                f"{self.config.timeout_worker_healthcheck} s (hung)"
            )
        # Starting: one ping waits in its pipe until the worker can answer it.
        if key not in self.pinged:
            process.parent_conn.send(b"ping")
            self.pinged.add(key)
        if process.parent_conn.poll(0):
            process.parent_conn.recv()
            self.answered.add(key)
            log.info(
                "worker %s answers, %.1f s after it was started",
                process.pid,
                time.monotonic() - self.started_at[key],
            )
            return None
        if time.monotonic() - self.started_at[key] < self.startup_seconds:
            return None
        return f"did not answer within {self.startup_seconds:g} s of being started"


def run(config: Config, startup_seconds: float = STARTUP_SECONDS) -> None:
    """Serve `config.workers` worker processes under the `Supervisor`."""
    socket = config.bind_socket()
    try:
        Supervisor(config, [socket], startup_seconds).run()
    finally:
        socket.close()
