"""Structured logs: one JSON object per line, with the request's correlation id.
Only fields we choose are logged: never headers (tokens), bodies or free-text notes."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from datetime import UTC, datetime

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
SAFE_EXTRA = ("method", "path", "status", "duration_ms", "operation", "code", "position")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        """One JSON object per line."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": correlation_id.get(),
        }
        entry.update({k: getattr(record, k) for k in SAFE_EXTRA if hasattr(record, k)})
        if record.exc_info and record.exc_info[0] is not None:
            # The type, where it was raised and the traceback's frames (file, line,
            # function); never its message or locals (values).
            entry["error"] = record.exc_info[0].__name__
            frames = traceback.extract_tb(record.exc_info[2])
            if frames:
                entry["where"] = f"{frames[-1].filename}:{frames[-1].lineno}"
                entry["traceback"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in frames]
        return json.dumps(entry, default=str)


def configure(level: str) -> None:
    """Route every logger (ours, uvicorn's) through the JSON formatter."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = name != "uvicorn.access"  # we log requests ourselves
