"""Machine facts and percentiles for the summary block."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path

import psycopg


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")


def git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return out.stdout.strip()


def code_version() -> str:
    """The commit, and whether tracked files outside bench/ differ from it."""
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench")
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")


def machine_lines(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        buffers = conn.execute("SHOW shared_buffers").fetchone()
    libs = ", ".join(
        f"{name} {version(name)}" for name in ("eventsourcing", "SQLAlchemy", "psycopg")
    )
    return [
        f"- machine: {os.cpu_count()} cores (nproc), {cpu_model()}, {memory_gib():.0f} GiB RAM",
        f"- Python {platform.python_version()}; PostgreSQL {row[0] if row else '?'} "
        f"(shared_buffers {buffers[0] if buffers else '?'}, same machine); {libs}",
        f"- code: {code_version()}",
    ]


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by local `postgres` processes (NaN when not visible)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, seen = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if not fields[0].endswith("(postgres"):
            continue
        seen = True
        rest = fields[1].split()
        total += sum(int(v) for v in rest[11:15])  # utime, stime, reaped children's
    return total / ticks if seen else float("nan")
