"""The sketch editor (`/agreements/{id}/sketch`): the employee's (or HR's) page that
draws the crafting sketch with plain forms, one per part, each saved on its own through
`setSketch`'s command (`AgreementPages.write`: CSRF token, idempotency key, the version
the page showed). "Add a row" posts the form back one row longer and records nothing,
so no script is needed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api import read_side
from api.read_side import ReadModel, Row, sketch_of_row
from api.web.agreements import AgreementPages, Detail
from api.web.checks import FormErrors
from api.web.forms import Submitted
from api.web.sessions import Session
from api.web.sketch_form import PARTS, form_rows, read_part, rows_in, where
from api.web.sketch_form import label as sketch_label
from api.web.sketch_view import drawn_sketch
from domain.access import Party
from domain.agreement.lifecycle import Action, allows
from domain.application import commands as c
from domain.errors import DomainError, VersionConflict
from domain.sketch import Energy, RelationshipKind, Sketch

Endpoint = Callable[[Request], Awaitable[Response]]
Guard = Callable[[Endpoint], Endpoint]
ENERGIES = [(e.value, e.value.lower()) for e in Energy]
SINGLE_FIELDS = ("developmentReason", "purpose")
KINDS = [(k.value, k.value.lower().capitalize()) for k in RelationshipKind]


class SketchPages:
    def __init__(self, pages: AgreementPages) -> None:
        self.pages = pages
        self.site = pages.site

    async def _editable(self, request: Request) -> tuple[Session, Detail] | Response:
        found = await self.pages.acting(request, Party.EMPLOYEE)
        if isinstance(found, Response):
            return found
        row = found[1].agreement
        if not allows(row["status"], Action.SET_SKETCH):
            return RedirectResponse(f"/agreements/{row['agreement_id']}", 303)
        return found

    async def _people(self, detail: Detail) -> tuple[list[tuple[str, str]], float | None]:
        """Whom a relationship may name from the directory (the employee's manager and
        their reports, and anyone already named), and the employee's contracted hours."""
        row = detail.agreement
        employee, manager = row["employee_id"], detail.manager_id
        sketch = sketch_of_row(row)
        named = {r.person_id for r in (sketch.relationships if sketch else ()) if r.person_id}

        def read(conn: Connection, rm: ReadModel) -> tuple[list[Row], Row | None]:
            near = read_side.reports_of(conn, rm, manager) if manager else []
            ids = {p["person_id"] for p in near} | named | ({manager} if manager else set())
            found = read_side.people_by_id(conn, rm, ids | {employee})
            return list(found.values()), found.get(employee)

        people, me = await asyncio.to_thread(self.site.ports.reads.run, read)
        choices = sorted(
            (p["display_name"], p["person_id"])
            for p in people
            if p["person_id"] != employee and (p["active"] or p["person_id"] in named)
        )
        hours = None if me is None else me["contracted_hours_per_week"]
        return [(pid, name) for name, pid in choices], hours

    async def _render(
        self,
        request: Request,
        session: Session,
        detail: Detail,
        status: int = 200,
        *,
        sent: tuple[str, Submitted, int] | None = None,
        **values: Any,
    ) -> Response:
        """The editor; `sent`: the part whose form shows the values sent (refused, or
        one row longer), and how many blank rows follow them."""
        row = detail.agreement
        people, contracted = await self._people(detail)
        sketch = sketch_of_row(row) or Sketch()
        rows = {
            part: form_rows(part, sketch, sent[1], sent[2])
            if sent is not None and sent[0] == part
            else form_rows(part, sketch, None, 1)
            for part in PARTS
        }
        hours = row["development_hours"]
        return self.site.render(
            request,
            "sketch.html",
            session,
            status,
            a=row,
            sketch=sketch,
            rows=rows,
            sent_part=None if sent is None else sent[0],
            sent=None if sent is None else sent[1].values,
            drawing=drawn_sketch(row, detail.children),
            adjustments=[j for j in detail.children["adjustments"] if j["status"] == "ACTIVE"],
            reallocations=[r for r in detail.children["reallocations"] if r["status"] == "ACTIVE"],
            people=people,
            energies=ENERGIES,
            kinds=KINDS,
            expected=None if not contracted else 100 * hours / contracted,
            contracted=contracted,
            development_hours=hours,
            **{"errors": {}, "focus": None} | values,
            # The error summary links the errors that have a field on the page.
            linked=[k for k in values.get("errors", {}) if "-" in k or k in SINGLE_FIELDS],
        )

    async def show(self, request: Request) -> Response:
        found = await self._editable(request)
        if isinstance(found, Response):
            return found
        session, _ = found
        recorded = await self.pages.wait_for(request, session)
        found = await self._editable(request)  # read again: it now includes the write
        if isinstance(found, Response):
            return found
        return await self._render(request, *found, recorded=recorded)

    async def save(self, request: Request) -> Response:
        found = await self._editable(request)
        if isinstance(found, Response):
            return found
        session, detail = found
        form = Submitted.of(await request.form())
        part = form.get("part")
        if part not in PARTS:
            return self.site.not_found(request, session)
        if form.get("more") and part != "purpose":
            # One more blank row, the values kept; nothing recorded. The new row takes
            # the focus (autofocus: no script needed).
            sent = rows_in(form, part)
            first = "kind" if part == "relationships" else "name"
            return await self._render(
                request,
                session,
                detail,
                sent=(part, form, 1),
                focus=f"{part}-{(sent[-1] + 1) if sent else 0}-{first}",
            )
        agreement_id = UUID(detail.agreement["agreement_id"])
        current = sketch_of_row(detail.agreement) or Sketch()
        rows: list[int] = []

        def make(form: Submitted, key: str) -> c.Command | None:
            version = form.version()
            if version is None:
                return None
            read = read_part(form, part, current)
            rows.extend(read.rows)
            return c.SetSketch(
                agreement_id=agreement_id,
                expected_version=version,
                idempotency_key=key,
                sketch=read.sketch,
            )

        async def failed(
            session: Session, form: Submitted, error: DomainError | FormErrors
        ) -> Response:
            if isinstance(error, VersionConflict):
                changed = await self.pages.what_changed(session, detail, form)
                return await self._render(request, session, detail, 409, conflict=changed)
            if isinstance(error, DomainError):
                error = FormErrors.of(error, sketch_label, where(part, rows))
            return await self._render(
                request, session, detail, 422, sent=(part, form, 0), errors=error.errors
            )

        return await self.pages.write(request, make, failed, page="/sketch")


def sketch_routes(pages: AgreementPages, guarded: Guard) -> list[Route]:
    """The sketch editor's routes."""
    editor = SketchPages(pages)
    return [
        Route("/agreements/{agreement_id}/sketch", guarded(editor.show)),
        Route("/agreements/{agreement_id}/sketch", guarded(editor.save), methods=["POST"]),
    ]
