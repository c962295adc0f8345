"""Where an agreement's long lists continue: the cursor of a run's first or last row
as a link's query value, read back (`api.web.earlier` shows the runs), and the links
to the earlier run of each list the agreement's page shows."""

from __future__ import annotations

import re
from collections.abc import Mapping

from api.http.numbers import INT64_MAX
from api.read_side import Cursor, Row, Slice, cursor_of

_CURSOR = re.compile(r"(\d{1,19})\.(\d{1,9})")


def cursor_text(row: Row) -> str:
    """'position.seq' of a row: where a run before or after it starts."""
    position, seq = cursor_of(row)
    return f"{position}.{seq}"


def cursor_param(raw: str) -> Cursor | None:
    """A cursor from a link's query; None when malformed."""
    found = _CURSOR.fullmatch(raw)
    if found is None or int(found.group(1)) > INT64_MAX:
        return None
    return int(found.group(1)), int(found.group(2))


def earlier_links(agreement_id: object, runs: Mapping[str, Slice]) -> dict[str, str]:
    """The page of the run before each run shown, by list (only where there is one)."""
    return {
        kind: f"/agreements/{agreement_id}/earlier/{kind}?before={cursor_text(run.rows[0])}"
        for kind, run in runs.items()
        if run.earlier and run.rows
    }
