"""A rebuild's flushes written on a thread of their own (PostgreSQL), in order, each in
its own transaction, while the rebuild projects the next events.

Without it a flush stops the projection while PostgreSQL parses the COPY data, writes
the heap and the WAL: on a rebuild, about as much server CPU as the projector's Python
CPU, spent one after the other. Here the server's share of a flush runs beside the
Python work of the next batches (the thread gives up the GIL while it waits on the
socket). The rows a write sends were copied when it was taken
(`BatchProjector.take_writes`), so projecting on cannot change them.

At most one write waits behind the running one: memory holds at most two flushes' rows
besides the batch being projected. A failed write stops the later ones (the new
generation is incomplete and is dropped by the next attempt) and is raised to the caller
at its next `submit` or at `wait`. SQLite writes inline: one writer at a time there, and
its CPU is this process's anyway.
"""

from __future__ import annotations

import queue
import threading
from types import TracebackType

from sqlalchemy import Engine

from projections.projector import Write


class RebuildWrites:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.error: BaseException | None = None
        self.cancelled = False  # the caller failed: the writes still queued are not run
        self.queue: queue.Queue[Write | None] = queue.Queue(maxsize=1)
        self.thread: threading.Thread | None = None
        if engine.dialect.name == "postgresql":
            self.thread = threading.Thread(target=self._run, name="rebuild-writes", daemon=True)
            self.thread.start()

    def submit(self, write: Write) -> None:
        """Run `write` in a transaction of its own after those submitted before."""
        self._raise()
        if self.thread is None:
            with self.engine.begin() as conn:
                write(conn)
        else:
            self.queue.put(write)

    def wait(self) -> None:
        """Return once every submitted write is committed; raise the first that failed."""
        if self.thread is not None:
            self.queue.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (write := self.queue.get()) is not None:
            try:
                if self.error is None and not self.cancelled:
                    with self.engine.begin() as conn:
                        write(conn)
            except BaseException as error:  # handed to the caller, who decides
                self.error = error
            finally:
                self.queue.task_done()
        self.queue.task_done()

    def __enter__(self) -> RebuildWrites:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """The thread ends once the write it runs is done (never left writing into
        tables a later attempt drops)."""
        self.cancelled = exc is not None
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
