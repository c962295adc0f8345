"""A PostgreSQL primary and a streaming replica of it, started by the tests
(tests/e2e/test_read_replica.py) and bench.replica_read from this machine's PostgreSQL
binaries (Debian's /usr/lib/postgresql/N/bin): each cluster in a
temporary directory on a free port, the replica made with `pg_basebackup -R`. They are
the tests' own — the shared server's configuration is never touched. PostgreSQL
refuses to run as root: as root, the clusters run as the `postgres` user the Debian
package creates (runuser)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

RUN_AS = "postgres"


class NoPostgresBinaries(Exception):
    """initdb, pg_ctl and pg_basebackup are not installed here."""


def postgres_bindir() -> Path:
    """The newest installed PostgreSQL's bin directory."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb is not None:
        return Path(initdb).parent
    raise NoPostgresBinaries("no initdb in /usr/lib/postgresql/*/bin or on PATH")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Replication:
    """A primary on one port, a hot-standby replica streaming from it on another."""

    def __init__(self, max_connections: int = 60) -> None:
        self.max_connections = max_connections
        self.bindir = postgres_bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                user = pwd.getpwnam(RUN_AS)
            except KeyError:
                raise NoPostgresBinaries(
                    f"running as root and no {RUN_AS!r} user to run PostgreSQL as"
                ) from None
        self.root = Path(tempfile.mkdtemp(prefix="crafting-replication-"))
        if self.as_root:
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.primary_port, self.replica_port = _free_port(), _free_port()
        self.primary_dir, self.replica_dir = self.root / "primary", self.root / "replica"

    # --- lifecycle ----------------------------------------------------------

    def start(self) -> Replication:
        self._run("initdb", "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "-N")
        with (self.primary_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.primary_port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "wal_level = replica\n"
                "max_wal_senders = 4\n"
                f"max_connections = {self.max_connections}\n"
                "fsync = off\n"  # a test fixture: speed over durability
            )
        self._ctl(self.primary_dir, "start")
        # initdb's pg_hba.conf lets local replication connections in (trust).
        self._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary_port),
            "-U",
            "postgres",
            "-D",
            str(self.replica_dir),
            "-R",  # standby.signal and primary_conninfo: a streaming replica
            "-X",
            "stream",
            "-c",
            "fast",
        )
        with (self.replica_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.replica_port}\n")
        self.start_replica()
        return self

    def start_replica(self) -> None:
        self._ctl(self.replica_dir, "start")

    def stop_replica(self) -> None:
        """Stop the replica at once (`immediate`: as a crash would)."""
        self._ctl(self.replica_dir, "stop", "-m", "immediate")

    def close(self) -> None:
        for data in (self.replica_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                self._ctl(data, "stop", "-m", "immediate", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    # --- the clusters -------------------------------------------------------

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def pause_replay(self) -> None:
        """The replica keeps receiving WAL but stops applying it: it falls behind."""
        with psycopg.connect(self.replica_url, autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with psycopg.connect(self.replica_url, autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    def wait_replayed(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with psycopg.connect(self.primary_url, autocommit=True) as primary:
            row = primary.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        assert row is not None
        target = row[0]
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.replica_url, autocommit=True) as replica:
            while True:
                done = replica.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)
                ).fetchone()
                if done is not None and done[0]:
                    return
                assert time.monotonic() < deadline, "the replica did not catch up"
                time.sleep(0.05)

    # --- running the binaries -----------------------------------------------

    def _ctl(self, data: Path, action: str, *args: str, check: bool = True) -> None:
        log = self.root / f"{data.name}.log"
        self._run("pg_ctl", "-D", str(data), "-l", str(log), "-w", action, *args, check=check)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self.bindir / program), *args]
        if self.as_root:
            command = ["runuser", "-u", RUN_AS, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.root)
        if check and done.returncode != 0:
            log = "".join(
                p.read_text(errors="replace")[-2000:] for p in sorted(self.root.glob("*.log"))
            )
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{log}"
            )
