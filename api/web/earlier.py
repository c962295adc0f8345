"""The earlier parts of an agreement's long lists: its page shows the latest
adjustments, reallocations, artifacts and changes in effect (`LIST_SHOWN` of each);
these pages show the rest a run at a time, each read as one range of the list's index
(however long the history), with links to the run before and after it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from api import read_side
from api.read_side import ReadModel, Row, Slice
from api.web.agreements import CONFIRM, LIST_SHOWN, AgreementPages
from api.web.lookups import agreement_viewer, bad_query
from api.web.manager import named
from api.web.navigation import may_act
from api.web.runs import cursor_param, cursor_text
from api.web.site import scope_of
from domain.access import Party

LISTS = {
    "adjustments": "Adjustments",
    "reallocations": "Reallocated tasks",
    "artifacts": "Artifacts",
    "changes": "Changes in effect",
}
"""The lists with earlier pages, by the name in their path: their headings."""
BAD_CURSOR = "before and after must be where a list continues, such as 1234.0 (one of them)."


@dataclass(frozen=True)
class Earlier:
    agreement: Row
    run: Slice
    names: dict[str, str]
    manager_id: str | None
    named: dict[str, dict[str, Row]]


def _people(kind: str, rows: list[Row], labelled: dict[str, dict[str, Row]]) -> set[str]:
    if kind == "reallocations":
        return {r[side] for r in rows for side in ("from_person_id", "to_person_id")}
    if kind == "artifacts":
        return {r["recorded_by"] for r in rows}
    if kind == "changes":
        return {r["to_person_id"] for r in labelled.get("reallocations", {}).values()}
    return set()


class EarlierPages:
    def __init__(self, pages: AgreementPages) -> None:
        self.pages = pages
        self.site = pages.site

    async def show(self, request: Request) -> Response:
        """A run of one list (`?before=` the cursor of the run after it, or `?after=`
        the one before it): to whoever may read the agreement; the changes in effect,
        with their revert forms, to whoever acts on its manager's side."""
        seen = await agreement_viewer(self.site, request)
        if isinstance(seen, Response):
            return seen
        session, aid = seen
        kind = request.path_params["list"]
        if kind not in LISTS:
            return self.site.not_found(request, session)
        raw_before, raw_after = (
            request.query_params.get("before"),
            request.query_params.get("after"),
        )
        before = None if raw_before is None else cursor_param(raw_before)
        after = None if raw_after is None else cursor_param(raw_after)
        if (raw_before is None) == (raw_after is None) or (before or after) is None:
            return bad_query(self.site, request, session, BAD_CURSOR, aid)
        scope, key = scope_of(session), str(aid)

        def query(conn: Connection, rm: ReadModel) -> tuple[Any, ...] | None:
            found = read_side.agreements_by_id(conn, rm, scope, [key]).get(key)
            if found is None:
                return None
            run = read_side.list_slice(conn, rm, kind, key, LIST_SHOWN, before, after)
            employee = found["employee_id"]
            person = read_side.people_by_id(conn, rm, [employee]).get(employee)
            manager_id = person["manager_id"] if person else None
            labelled = named(conn, rm, key, run.rows, {}) if kind == "changes" else {}
            ids = {employee} | _people(kind, run.rows, labelled)
            people = read_side.people_by_id(conn, rm, ids, read_side.NAMED)
            names = {pid: p["display_name"] for pid, p in people.items()}
            # Plain rows and tuples: what `Reads.run` opens the sealed texts of.
            return found, (run.rows, run.total, run.later), names, manager_id, labelled

        found = await asyncio.to_thread(self.site.ports.reads.run, query)
        if found is None:
            return self.site.not_found(request, session)
        row, (rows, total, later), names, manager_id, labelled = found
        shown = Earlier(row, Slice(rows, total, later), names, manager_id, labelled)
        manager = may_act(session.actor, Party.MANAGER, row["employee_id"], shown.manager_id)
        if kind == "changes" and not manager:
            return self.site.not_found(request, session)
        run, path = shown.run, f"/agreements/{aid}/earlier/{kind}"
        return self.site.render(
            request,
            "earlier.html",
            session,
            a=row,
            kind=kind,
            heading=LISTS[kind],
            rows=run.rows,
            first=run.earlier + 1,
            last=run.earlier + len(run.rows),
            in_all=run.total,
            earlier_link=f"{path}?before={cursor_text(run.rows[0])}"
            if run.rows and run.earlier
            else None,
            later_link=f"{path}?after={cursor_text(run.rows[-1])}"
            if run.rows and run.later
            else None,
            names=shown.names,
            named=shown.named,
            may={"manager": manager},
            confirmations=CONFIRM,
        )
