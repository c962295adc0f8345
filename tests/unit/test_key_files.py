"""Key files beside the SQLite database: processes starting at once all read the one
value that won, never an empty or half-written file."""

from __future__ import annotations

import multiprocessing
import secrets
import stat
import time
from pathlib import Path

from infra.key_files import read_or_create

PROCESSES = 12


def _slow_token() -> str:
    time.sleep(0.05)  # a slow writer widens the window a reader could fall into
    return secrets.token_hex(16)


def _read_at(path: str, start: float) -> str:
    time.sleep(max(0.0, start - time.time()))
    return read_or_create(Path(path), _slow_token)


def test_processes_starting_at_once_all_read_the_same_whole_value(tmp_path: Path) -> None:
    path = tmp_path / "new-folder" / "crafting.db.jwt-secret"
    start = time.time() + 1.5  # every process calls at the same moment
    with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
        values = pool.starmap(_read_at, [(str(path), start)] * PROCESSES)
    assert len(set(values)) == 1
    assert len(values[0]) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
