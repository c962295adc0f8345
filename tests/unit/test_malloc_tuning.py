"""Serving processes keep freed memory for the next request (infra.runtime.tune_malloc):
reading a compiled page allocates and frees ~260 KiB each time, and glibc's defaults
gave it back to the system at once, so every request faulted fresh pages in again."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    if "CS_GNU_LIBC_VERSION" in os.confstr_names
    else True,
    reason="glibc's malloc only",
)

# A request's pattern, in a fresh process: 8 MiB in 2 KiB blocks (a page's rows, its
# joined text), all freed; the page faults of the cycles after the first are counted.
CYCLES = """
import ctypes, ctypes.util, resource, sys
from infra.runtime import tune_malloc
if sys.argv[1] == "tuned":
    assert tune_malloc()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def cycle():
    blocks = [libc.malloc(2048) for _ in range(4096)]
    for b in blocks:
        ctypes.memset(b, 1, 2048)
    for b in blocks:
        libc.free(b)
cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    cycle()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", CYCLES, mode], capture_output=True, text=True, check=True
    ).stdout
    return int(out)


def test_freed_memory_is_kept_for_the_next_request() -> None:
    # 5 cycles of 8 MiB: ~10,000 faults when each cycle maps its pages anew.
    assert _faults("tuned") < 200


def test_untuned_the_same_cycles_fault_every_time() -> None:
    """The measurement above sees what it claims to: glibc's defaults fault."""
    assert _faults("default") > 2000
