"""The employee's pages: proposing an agreement, revising a proposal, recording an
artifact, and career evidence (their own, or a person's for whoever may read it).
Every write goes through `AgreementPages.write`/`act`; the commands decide who may."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api import read_side
from api.http.numbers import whole_number
from api.read_side import (
    CareerRows,
    ReadModel,
    Row,
    career_evidence,
    career_rows,
    path_rows,
    path_step,
)
from api.web.agreements import AgreementPages, Detail
from api.web.checks import FormErrors
from api.web.forms import Submitted
from api.web.navigation import may_propose
from api.web.proposal_form import (
    MOST_ROWS,
    ProposalInput,
    fields,
    label,
    read_proposal,
    row_count,
    values_of,
)
from api.web.sessions import Session
from api.web.site import scope_of, signed_in
from domain.access import Actor, Party, acting_role, can_read_evidence
from domain.agreement.lifecycle import Action, allows
from domain.application import commands as c
from domain.errors import DomainError, Forbidden, VersionConflict
from domain.values import Role

# What the person sees of a career: themselves, the rows the viewer may read.
Career = tuple[Row, CareerRows, list[Row]]  # the person, their evidence, their path
Endpoint = Callable[[Request], Awaitable[Response]]
Guard = Callable[[Endpoint], Endpoint]  # app.py's: an unexpected failure is a plain page


ARTIFACT_LABELS = {"title": "Artifact title", "kind": "Kind", "url": "Link", "skills": "Skills"}


class EmployeePages:
    def __init__(self, pages: AgreementPages) -> None:
        self.pages = pages
        self.site = pages.site

    # --- proposing and revising ---------------------------------------------------

    def _form(
        self,
        request: Request,
        session: Session,
        status: int = 200,
        *,
        detail: Detail | None = None,
        values: dict[str, Any],
        rows: int,
        **extra: Any,
    ) -> Response:
        return self.site.render(
            request,
            "proposal.html",
            session,
            status,
            a=None if detail is None else detail.agreement,
            values=values,
            rows=rows,
            most_rows=MOST_ROWS,
            for_others=session.actor.has(Role.HR),
            **{"errors": {}, "focus_row": None} | extra,
        )

    @signed_in
    async def new(self, request: Request, session: Session) -> Response:
        if not may_propose(session.actor):
            return self.site.not_found(request, session)
        return self._form(request, session, values={}, rows=1)

    @signed_in
    async def row(self, request: Request, session: Session) -> Response:
        """One more adjustment row (htmx appends it; without script, the form's "Add
        another adjustment" button posts the form and gets it back one row longer)."""
        index = whole_number(request.query_params.get("index"))
        if not may_propose(session.actor) or index is None or index >= MOST_ROWS:
            return self.site.not_found(request, session)
        return self.site.render(
            request,
            "proposal_row_added.html",
            session,
            i=index,
            focus_row=index,
            most_rows=MOST_ROWS,
            values={},
            errors={},
        )

    def _more(self, request: Request, session: Session, form: Submitted, **extra: Any) -> Response:
        rows = min(MOST_ROWS, row_count(form) + 1)
        return self._form(
            request, session, values=form.values, rows=rows, focus_row=rows - 1, **extra
        )

    def _failed_proposal(
        self,
        request: Request,
        read: list[ProposalInput],
        detail: Detail | None = None,
        **extra: Any,
    ) -> Any:
        async def failed(
            session: Session, form: Submitted, error: DomainError | FormErrors
        ) -> Response:
            rows = row_count(form)
            shown = fields(rows)
            if isinstance(error, DomainError):
                # A rule the domain checked names the adjustment by its place among the
                # non-blank rows: shown at its form row, in the form's words.
                def where(field: str) -> str:
                    return read[0].field(field, shown) if read else field

                error = FormErrors.of(error, label, where)
            errors = {(k if k in shown else "form"): m for k, m in error.errors.items()}
            return self._form(
                request,
                session,
                422,
                detail=detail,
                values=form.values,
                rows=rows,
                errors=errors,
                **extra,
            )

        return failed

    @signed_in
    async def propose(self, request: Request, session: Session) -> Response:
        form = Submitted.of(await request.form())
        if form.get("more"):
            return self._more(request, session, form)
        read: list[ProposalInput] = []

        def make(form: Submitted, key: str) -> c.Command:
            read.append(read_proposal(form, session.actor.has(Role.HR)))
            return c.ProposeAgreement(
                idempotency_key=key,
                title=read[0].title,
                career_goal=read[0].career_goal,
                adjustments=read[0].adjustments,
                employee_id=form.text("employeeId"),
            )

        failed = self._failed_proposal(request, read)
        return await self.pages.write(request, make, failed, versioned=False)

    async def _revisable(self, request: Request) -> tuple[Session, Detail] | Response:
        """The person and the proposal they revise (a decided one: back to its page)."""
        found = await self.pages.acting(request, Party.EMPLOYEE)
        if isinstance(found, Response):
            return found
        row = found[1].agreement
        if not allows(row["status"], Action.REVISE):
            return RedirectResponse(f"/agreements/{row['agreement_id']}", 303)
        return found

    async def revise_form(self, request: Request) -> Response:
        found = await self._revisable(request)
        if isinstance(found, Response):
            return found
        session, detail = found
        adjustments = detail.children["adjustments"]
        return self._form(
            request,
            session,
            detail=detail,
            values=values_of(detail.agreement, adjustments),
            rows=max(1, len(adjustments)),
            requested=detail.more.get("requested"),
        )

    async def revise(self, request: Request) -> Response:
        found = await self._revisable(request)
        if isinstance(found, Response):
            return found
        session, detail = found
        form = Submitted.of(await request.form())
        requested = detail.more.get("requested")
        if form.get("more"):
            return self._more(request, session, form, detail=detail, requested=requested)
        read: list[ProposalInput] = []
        agreement_id = UUID(detail.agreement["agreement_id"])

        def make(form: Submitted, key: str) -> c.Command | None:
            version = form.version()
            if version is None:
                return None
            read.append(read_proposal(form))
            return c.ReviseProposal(
                agreement_id=agreement_id,
                expected_version=version,
                idempotency_key=key,
                title=read[0].title,
                career_goal=read[0].career_goal,
                adjustments=read[0].adjustments,
            )

        proposal_failed = self._failed_proposal(request, read, detail, requested=requested)

        async def failed(
            session: Session, form: Submitted, error: DomainError | FormErrors
        ) -> Response:
            if isinstance(error, VersionConflict):
                changed = await self.pages.what_changed(session, detail, form)
                return self.pages.page(request, session, detail, 409, conflict=changed)
            response: Response = await proposal_failed(session, form, error)
            return response

        return await self.pages.write(request, make, failed)

    # --- artifacts ------------------------------------------------------------------

    async def record_artifact(self, request: Request) -> Response:
        return await self.pages.act(
            request,
            "artifact",
            lambda form, agreement_id, version, key: c.RecordArtifact(
                agreement_id=agreement_id,
                expected_version=version,
                idempotency_key=key,
                title=form.get("title"),
                kind=form.get("kind"),
                url=form.text("url"),
                skills=form.words("skills"),
            ),
            labels=ARTIFACT_LABELS.get,
            where=lambda field: "skills" if field.startswith("skills") else field,
        )

    # --- career evidence ------------------------------------------------------------

    @signed_in
    async def career(self, request: Request, session: Session) -> Response:
        person_id = request.path_params.get("person_id", session.actor.id)
        actor, scope = session.actor, scope_of(session)

        def read(conn: Connection, rm: ReadModel) -> Career | None:
            person = read_side.people_by_id(conn, rm, {person_id}).get(person_id)
            theirs = None if person is None else person["manager_id"]
            if person is None or not can_read_evidence(actor, person_id, theirs):
                return None
            return (
                person,
                career_rows(conn, rm, scope, person_id),
                path_rows(conn, rm, scope, person_id),
            )

        found = await asyncio.to_thread(self.site.ports.reads.run, read)
        if found is None:
            return self.site.not_found(request, session)
        person, rows, path = found
        evidence = career_evidence(rows)
        # The person's path (as GraphQL's careerPath): each goal, what it led to, how
        # long that took and about how many hours went into it; oldest first.
        now = datetime.now(UTC)
        steps = [{"a": row, **path_step(row, now)} for row in path]
        titles = {a["agreement_id"]: a["title"] for a in evidence.agreements}
        return self.site.render(
            request,
            "career.html",
            session,
            person=person,
            own=person_id == actor.id,
            evidence=evidence,
            titles=titles,
            steps=steps,
            # The dossier's button: for those it would be issued to (as the agreement
            # page's), when there is an agreement to put in it.
            dossier=bool(evidence.agreements) and _may_receive(actor, person),
        )


def _may_receive(actor: Actor, person: Row) -> bool:
    try:
        acting_role(actor, Party.CONTRIBUTOR, str(person["person_id"]), person["manager_id"])
    except Forbidden:
        return False
    return True


def employee_routes(pages: AgreementPages, guarded: Guard) -> list[Route]:
    """The employee's routes; before the agreement page's, which would take /agreements/new."""
    employee = EmployeePages(pages)
    return [
        Route("/agreements/new", guarded(employee.new)),
        Route("/agreements/new", guarded(employee.propose), methods=["POST"]),
        Route("/agreements/new/row", guarded(employee.row)),
        Route("/agreements/{agreement_id}/revise", guarded(employee.revise_form)),
        Route("/agreements/{agreement_id}/revise", guarded(employee.revise), methods=["POST"]),
        Route(
            "/agreements/{agreement_id}/artifacts",
            guarded(employee.record_artifact),
            methods=["POST"],
        ),
        Route("/career", guarded(employee.career)),
        Route("/people/{person_id}/career", guarded(employee.career)),
    ]
