"""Files that hold secrets or opened personal data: readable by their owner only
(mode 0600), whether the file is new or was already there with a wider mode."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO, TextIO

log = logging.getLogger("crafting.files")
OWNER_ONLY = 0o600


def open_private(path: Path) -> TextIO:
    """`path` opened for writing (truncated), mode 0600: created so, or narrowed to it
    before anything is written when it existed (a device or pipe is left as it is)."""
    return os.fdopen(_private_fd(path), "w", encoding="utf-8")


def open_private_binary(path: Path) -> BinaryIO:
    """`open_private` for bytes (a PDF)."""
    return os.fdopen(_private_fd(path), "wb")


def _private_fd(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode) and stat.S_IMODE(mode) & 0o077:
            os.fchmod(fd, OWNER_ONLY)
        return fd
    except BaseException:
        os.close(fd)
        raise


def ensure_owner_only(path: Path) -> None:
    """A secret file others could read is narrowed to 0600, with a warning that says
    so (its value may have been read: rotate it if that matters); when it cannot be
    narrowed (another owner), the warning says that instead."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return
    try:
        path.chmod(OWNER_ONLY)
    except OSError:
        log.warning(
            "%s is readable by others (mode %o) and could not be narrowed to 0600: "
            "fix its mode, and rotate the secret if others may have read it",
            path,
            mode,
        )
        return
    log.warning(
        "%s was readable by others (mode %o): narrowed to 0600; rotate the secret if "
        "others may have read it",
        path,
        mode,
    )
