"""The agreement pages: the signed-in person's agreements, one agreement, and the
employee's withdrawal (the form pattern every later write follows: CSRF token,
idempotency key made when the page was rendered, the version the page showed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api import read_side
from api.http.consistency import ConsistencyWaiter, NotYetConsistent
from api.http.numbers import whole_number
from api.read_side import ReadModel, Row
from api.web import csrf
from api.web.checks import FormErrors, Labels
from api.web.differences import changed_since
from api.web.forms import FieldError, Submitted, uuid_or_none
from api.web.navigation import may_act
from api.web.runs import earlier_links
from api.web.sessions import Session
from api.web.site import Site, scope_of, signed_in, to_sign_in
from domain.access import Party
from domain.agreement.lifecycle import Action, actions, allows
from domain.application import commands as c
from domain.errors import DomainError, Forbidden, VersionConflict
from domain.sealing import KeysUnavailable
from domain.values import AgreementStatus

MY_AGREEMENTS_SHOWN = 200
REVIEWS_SHOWN = 5  # the latest; "all" shows every one
# The latest adjustments, reallocations, artifacts and changes in effect the agreement's
# page shows; earlier ones a page at a time (api.web.earlier): the page's cost does not
# grow with the agreement's history.
LIST_SHOWN = 20
CHILDREN = ("adjustments", "reallocations", "reviews", "artifacts", "outcomes")


@dataclass(frozen=True)
class Confirm:
    """An action that cannot be undone, asked before it runs: who acts, the button's
    word, and what follows."""

    party: Party
    verb: str
    consequence: str
    button: str | None = None  # when the question's verb does not stand alone


CONFIRM: dict[str, Confirm] = {
    "withdraw": Confirm(
        Party.EMPLOYEE, "Withdraw", "The agreement ends here and cannot be reopened."
    ),
    "reject": Confirm(Party.MANAGER, "Reject", "The proposal is closed and cannot be revised."),
    "pause": Confirm(Party.MANAGER, "Pause", "Its work stops until it is resumed."),
    "complete": Confirm(
        Party.MANAGER, "Complete", "The agreement ends here and cannot be reopened."
    ),
    "revert": Confirm(
        Party.MANAGER, "Revert", "The change is undone (the revert can itself be reverted)."
    ),
    "revert-outcome": Confirm(
        Party.MANAGER,
        "Revert the outcome of",
        "The outcome is undone; the one recorded before it, if any, is in effect again. "
        "Both stay in the history.",
        "Revert the outcome",
    ),
}
"""The actions asked before they run, by form: red buttons, a dialog (script) or a page."""


@dataclass(frozen=True)
class Detail:
    agreement: Row
    children: dict[str, list[Row]]
    names: dict[str, str]  # person id → display name
    manager_id: str | None  # the employee's current manager
    more: dict[str, Any] = field(default_factory=dict)  # what the sections added
    # The agreement's page: the runs of its lists it shows (their children are the
    # runs' rows); empty when every child was read (the forms' own pages).
    runs: dict[str, read_side.Slice] = field(default_factory=dict)
    # The manager's active reports (id and name), when read with the page's names; None
    # when not (the manager's section then reads them).
    reports: list[read_side.Named] | None = None


DetailRows = tuple[
    Row,
    dict[str, list[Row]],
    dict[str, str],
    str | None,
    dict[str, Any],
    dict[str, read_side.Slice],
]
Section = Callable[[Connection, ReadModel, read_side.ReadScope, Detail], dict[str, Any]]
"""More of the agreement page, read in the same transaction as the rest (plain rows,
so their sealed texts are opened too): each role's pages add theirs as template values."""
# Makes the command from the form, the agreement id, the version shown, the idempotency
# key; raises FieldError for a value it cannot read.
Build = Callable[[Submitted, UUID, int, str], c.Command]
# Makes the command from the form and the idempotency key; None: what the form is about
# does not exist (the 404).
Make = Callable[[Submitted, str], c.Command | None]
# The page for a rule violation or the values the form could not read (every one).
Failed = Callable[[Session, Submitted, DomainError | FormErrors], Awaitable[Response]]
# A refusal told in the page's words with what the form's reader knows (e.g. how many
# hours the chosen receiver can still take); None: the domain's message, worded.
Explain = Callable[[Session, Detail, Submitted, DomainError], Awaitable[str | None]]
# Shows a refused form again (status 409 or 422, and the template values act passes);
# by default the agreement page.
Refused = Callable[[Request, Session, Detail, int, dict[str, Any]], Awaitable[Response]]


def _runs(
    conn: Connection, rm: ReadModel, key: str, all_reviews: bool
) -> dict[str, read_side.Slice]:
    """The latest of the agreement's lists its page shows (every review when asked)."""
    shown = {"adjustments": LIST_SHOWN, "reallocations": LIST_SHOWN, "artifacts": LIST_SHOWN}
    if not all_reviews:
        shown["reviews"] = REVIEWS_SHOWN
    return {kind: read_side.list_slice(conn, rm, kind, key, n) for kind, n in shown.items()}


def _sketched(
    conn: Connection, rm: ReadModel, key: str, found: Row, kids: dict[str, list[Row]]
) -> dict[str, list[Row]]:
    """The adjustments and reallocations the sketch names (its table tells what each
    block serves), with the ones the runs shown left out."""
    kids = {kind: list(kids[kind]) for kind in ("adjustments", "reallocations")}
    blocks = (found.get("sketch") or {}).get("after") or []
    for kind, field_name, id_name in (
        ("adjustments", "adjustmentId", "adjustment_id"),
        ("reallocations", "reallocationId", "reallocation_id"),
    ):
        held = {r[id_name] for r in kids[kind]}
        wanted = {b[field_name] for b in blocks if b.get(field_name)} - held
        if wanted:
            named = read_side.children_by_id(conn, rm, kind, key, wanted).values()
            kids[kind] = sorted([*kids[kind], *named], key=read_side.cursor_of)
    return kids


def _detail(
    scope: read_side.ReadScope,
    key: str,
    sections: Sequence[Section],
    runs: bool = False,
    all_reviews: bool = False,
) -> Callable[[Connection, ReadModel], DetailRows | None]:
    """The agreement with its children (`runs`: only the latest of each list, as its
    page shows them) and the people they name."""

    # Plain rows, dicts and tuples: what `Reads.run` opens the sealed texts of.
    def query(conn: Connection, rm: ReadModel) -> DetailRows | None:
        found = read_side.agreements_by_id(conn, rm, scope, [key]).get(key)
        if found is None:
            return None
        shown = _runs(conn, rm, key, all_reviews) if runs else {}
        kids = {
            kind: shown[kind].rows
            if kind in shown
            else read_side.children(conn, rm, kind, [key]).get(key, [])
            for kind in CHILDREN
        }
        ids = {found["employee_id"]} | {
            r[side] for r in kids["reallocations"] for side in ("from_person_id", "to_person_id")
        }
        ids |= {r["held_by"] for r in kids["reviews"]} | {
            r["recorded_by"] for r in kids["artifacts"]
        }
        ids |= {r[who] for r in kids["outcomes"] for who in ("recorded_by", "reverted_by")} - {None}
        # The people the crafting sketch names as relationships to build.
        sketch = found.get("sketch") or {}
        ids |= {r["personId"] for r in sketch.get("relationships", []) if r.get("personId")}
        # Whom the employee reports to, the names, and for whoever may manage (the
        # manager's section lists them as receivers) that manager's reports: one
        # statement. Names and ids only (a whole row's sealed values would be opened).
        around = read_side.people_around(
            conn, rm, found["employee_id"], ids, scope.sees_all or scope.is_manager
        )
        detail = Detail(
            found, kids, around.names, around.manager_id, runs=shown, reports=around.reports
        )
        more = {k: v for section in sections for k, v in section(conn, rm, scope, detail).items()}
        if runs:
            more["sketch_children"] = _sketched(conn, rm, key, found, kids)
        return found, kids, around.names, detail.manager_id, more, shown

    return query


def requested_section(
    conn: Connection, rm: ReadModel, scope: read_side.ReadScope, detail: Detail
) -> dict[str, Any]:
    """While changes are asked of a proposal: the reason the manager gave, and who
    they are (shown to everyone who reads the agreement)."""
    row = detail.agreement
    if row["status"] != AgreementStatus.CHANGES_REQUESTED:
        return {}
    where = read_side.AuditFilter(agreement_id=row["agreement_id"], types=("ChangesRequested",))
    found = read_side.audit_log(conn, rm, where, 1, None, True)
    return {"requested": found[0]["reason"] if found else None}


class AgreementPages:
    def __init__(self, site: Site, sections: Sequence[Section] = ()) -> None:
        self.sections = [requested_section, *sections]
        self.site = site
        # A page after a write waits for the read models to include it (read your writes).
        self.waiter = ConsistencyWaiter(site.ports.reads.engine)

    @signed_in
    async def mine(self, request: Request, session: Session) -> Response:
        where = read_side.AgreementCriteria(employee_id=session.actor.id)
        scope = scope_of(session)
        rows = await asyncio.to_thread(
            self.site.ports.reads.run,
            lambda conn, rm: read_side.list_agreements(
                conn, rm, scope, where, MY_AGREEMENTS_SHOWN, None
            ),
        )
        return self.site.render(
            request, "my_agreements.html", session, agreements=rows[:MY_AGREEMENTS_SHOWN]
        )

    async def wait_for(self, request: Request, session: Session) -> bool:
        """After this person's own write (`?recorded=<position>`): wait until the read
        models include it, unless the projector lags too long (then the page is shown
        as it is). Whether the page follows a write."""
        position = whole_number(request.query_params.get("recorded", ""))
        if position is None:
            return False
        with suppress(NotYetConsistent):
            await self.waiter.wait(session.actor.id, position)
        return True

    async def _load(
        self, session: Session, agreement_id: UUID, request: Request | None = None
    ) -> Detail | None:
        """The agreement and its children: for its page (`request` given) only the
        latest of each list; otherwise every one (what the forms' pages work out)."""
        found = await asyncio.to_thread(
            self.site.ports.reads.run, self._detail_of(session, agreement_id, request)
        )
        return None if found is None else Detail(*found)

    def _detail_of(
        self, session: Session, agreement_id: UUID, request: Request | None
    ) -> Callable[[Connection, ReadModel], DetailRows | None]:
        all_reviews = request is not None and request.query_params.get("reviews") == "all"
        return _detail(
            scope_of(session), str(agreement_id), self.sections, request is not None, all_reviews
        )

    async def acting(self, request: Request, party: Party) -> tuple[Session, Detail] | Response:
        """The signed-in person and the agreement in the path, if they act on its `party`
        side (`domain.access` decides); otherwise the way to sign in, or the page every
        agreement gets that does not exist."""
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        agreement_id = uuid_or_none(request.path_params["agreement_id"])
        detail = None if agreement_id is None else await self._load(session, agreement_id)
        if detail is None or not may_act(
            session.actor, party, detail.agreement["employee_id"], detail.manager_id
        ):
            return self.site.not_found(request, session)
        return session, detail

    def may(self, session: Session, detail: Detail) -> dict[str, bool]:
        """Which sides of the agreement the person acts on: which forms to show (the
        commands decide)."""
        row = detail.agreement
        return {
            party.value: may_act(session.actor, party, row["employee_id"], detail.manager_id)
            for party in Party
        }

    def page(
        self,
        request: Request,
        session: Session,
        detail: Detail,
        status: int = 200,
        **values: Any,
    ) -> Response:
        row = detail.agreement
        may = self.may(session, detail)
        more = dict(detail.more)
        runs = detail.runs | more.pop("runs", {})  # the sections' runs too
        # The employee's side withdraws (HR too): the form shows where the command allows.
        may_withdraw = may[Party.EMPLOYEE.value] and allows(row["status"], Action.WITHDRAW)
        return self.site.render(
            request,
            "agreement.html",
            session,
            status,
            a=row,
            children=detail.children,
            names=detail.names,
            may=may,  # which side's forms to show; the commands decide
            may_withdraw=may_withdraw,
            actions=actions(row["status"]),  # what the lifecycle allows now
            manager_name=detail.names.get(detail.manager_id or ""),
            all_reviews=request.query_params.get("reviews") == "all",
            reviews_shown=REVIEWS_SHOWN,
            runs=runs,
            earlier=earlier_links(row["agreement_id"], runs),
            confirmations=CONFIRM,
            **more,
            **values,
        )

    async def show(self, request: Request) -> Response:
        """One agreement, if the person may read it; otherwise the same 404 as for one
        that does not exist. Read in the session's transaction (`Site.session_reading`),
        except after the person's own write (`?recorded=`): the page then waits until
        the read models include it, after the session's check and before its read."""
        agreement_id = uuid_or_none(request.path_params["agreement_id"])
        position = whole_number(request.query_params.get("recorded", ""))
        if agreement_id is None or position is not None:
            return await self._show_recorded(request, agreement_id, position)
        checked = await self.site.session_reading(
            request, lambda session: self._detail_of(session, agreement_id, request)
        )
        if checked is None:
            return to_sign_in()
        session, found = checked
        if found is None:
            return self.site.not_found(request, session)
        return self.page(request, session, Detail(*found))

    async def _show_recorded(
        self, request: Request, agreement_id: UUID | None, position: int | None
    ) -> Response:
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        if agreement_id is None:
            return self.site.not_found(request, session)
        if position is not None:
            # After this person's own write: wait until the page shows it, unless the
            # projector lags too long (then the page is shown as it is).
            with suppress(NotYetConsistent):
                await self.waiter.wait(session.actor.id, position)
        detail = await self._load(session, agreement_id, request)
        if detail is None:
            return self.site.not_found(request, session)
        return self.page(request, session, detail, recorded=position is not None)

    async def write(
        self,
        request: Request,
        make: Make,
        failed: Failed,
        *,
        versioned: bool = True,
        page: str = "",
    ) -> Response:
        """Run one command from a form, the way every write on these pages goes: the
        CSRF token checked, the idempotency key made when the page was rendered (a
        double submit records once), the version the page showed when `versioned` (a
        stale page gets the conflict), a rule violation handed to `failed` (to show it
        next to its field), and what the person may not act on answered as what does not
        exist; then the agreement's page (or its sub-page `page`, e.g. "/sketch") once the
        read models include the write."""
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        form = Submitted.of(await request.form())
        if not self.site.csrf_ok(request, session, form.get(csrf.FIELD) or None):
            return self.site.forbidden(request, session)
        key = form.idempotency_key()
        if key is None or (versioned and form.version() is None):
            return self.site.incomplete_form(request, session)
        try:
            command = make(form, key)
            if command is None:
                return self.site.not_found(request, session)
            result = await asyncio.to_thread(
                self.site.ports.commands.execute, self.site.command_request(session), command
            )
        except Forbidden:
            return self.site.not_found(request, session)
        except KeysUnavailable:
            return self.site.keys_unavailable(request, session)
        except FieldError as error:
            return await failed(session, form, FormErrors({error.field: error.message}))
        except (DomainError, FormErrors) as error:
            return await failed(session, form, error)
        assert result.agreement is not None  # every command these pages send is on one
        # The page opens at its notice (an explicit fragment: a redirect would otherwise
        # keep the form's, and open the page at a form that is gone).
        return RedirectResponse(
            f"/agreements/{result.agreement.id}{page}?recorded={result.position}#recorded", 303
        )

    async def what_changed(self, session: Session, detail: Detail, form: Submitted) -> str:
        """The conflict message: what changed since the version the form showed."""
        agreement_id = UUID(detail.agreement["agreement_id"])
        shown = form.version() or detail.agreement["version"]
        return await changed_since(self.site.ports, session.actor, agreement_id, shown)

    async def act(
        self,
        request: Request,
        action: str,
        build: Build,
        refused: Refused | None = None,
        *,
        labels: Labels = lambda _field: None,
        where: Callable[[str], str] = lambda field: field,
        explain: Explain | None = None,
        confirm: Confirm | None = None,
    ) -> Response:
        """Run one command on the agreement in the path (`write`); a rule violation is
        shown on the agreement's page, next to its field in the form of `action`, in
        the page's words (`labels`: the form's label of a field; `where`: the form
        field a domain field is shown at). An action that cannot be undone (`confirm`)
        asks first: a page that asks (when no script asked already)."""
        if confirm is not None:
            asked = await self.confirmed(request, confirm)
            if asked is not None:
                return asked
        agreement_id = uuid_or_none(request.path_params["agreement_id"])

        def make(form: Submitted, key: str) -> c.Command | None:
            version = form.version()
            if agreement_id is None or version is None:
                return None
            return build(form, agreement_id, version, key)

        async def failed(
            session: Session, form: Submitted, error: DomainError | FormErrors
        ) -> Response:
            assert agreement_id is not None
            # The page shown again: as it is shown (a refusal told by its own page
            # reads what that page needs).
            detail = await self._load(session, agreement_id, None if refused else request)
            if detail is None:  # NOT_FOUND: an agreement that does not exist
                return self.site.not_found(request, session)
            values: dict[str, Any]
            if isinstance(error, VersionConflict):
                status, values = 409, {"conflict": await self.what_changed(session, detail, form)}
            else:
                if isinstance(error, DomainError):
                    told = None if explain is None else await explain(session, detail, form, error)
                    error = FormErrors.of(error, labels, where)
                    if told is not None:
                        error.errors = {k: told for k in error.errors}
                status, values = (
                    422,
                    {"failed": action, "errors": error.errors, "form": form.values},
                )
            if refused is not None:
                return await refused(request, session, detail, status, values)
            return self.page(request, session, detail, status, **values)

        return await self.write(request, make, failed)

    async def confirmed(self, request: Request, confirm: Confirm) -> Response | None:
        """None when the form says it was confirmed; otherwise the page that asks, with
        the form's values carried in its own form (nothing is recorded yet)."""
        form = Submitted.of(await request.form())
        if form.get("confirmed") == "yes":
            return None
        found = await self.acting(request, confirm.party)
        if isinstance(found, Response):
            return found
        session, detail = found
        if not self.site.csrf_ok(request, session, form.get(csrf.FIELD) or None):
            return self.site.forbidden(request, session)
        return self.site.render(
            request,
            "confirm.html",
            session,
            a=detail.agreement,
            confirm=confirm,
            action=request.url.path,
            fields=[(k, v) for k, v in form.values.items() if k != "confirmed"],
        )

    async def withdraw(self, request: Request) -> Response:
        return await self.act(
            request,
            "withdraw",
            lambda form, agreement_id, version, key: c.WithdrawAgreement(
                agreement_id=agreement_id,
                expected_version=version,
                idempotency_key=key,
                reason=form.text("reason"),
            ),
            confirm=CONFIRM["withdraw"],
        )
