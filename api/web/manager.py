"""The manager's side of the agreement page: its actions (each through
`AgreementPages.act`), reverting a change, the live check of a reallocation's receiver
against the fairness limit, and the preview of a revert to a version."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from uuid import UUID

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import read_side
from api.read_side import ReadModel, Row
from api.web import manager_forms as forms
from api.web.agreements import CONFIRM, LIST_SHOWN, AgreementPages, Detail
from api.web.choices import receiver_options
from api.web.forms import Submitted
from api.web.sessions import Session
from domain.access import Party, acting_role, may_move_work_of
from domain.application import commands as c
from domain.errors import (
    DomainError,
    Forbidden,
    NothingToRevert,
    ReceiverOverloaded,
    VersionConflict,
)
from domain.ledger import overloads
from domain.sealing import Kept

Endpoint = Callable[[Request], Awaitable[Response]]
PREVIEW_CONFLICT = (
    "This agreement changed since you opened the preview. Here is what a revert to this "
    "version would undo now."
)


def agreement_section(
    conn: Connection, rm: ReadModel, scope: read_side.ReadScope, detail: Detail
) -> dict[str, Any]:
    """What the manager's forms need: the agreement's changes (a revert for each one
    in effect) and who may receive reallocated work — the people the employee's manager
    manages, and the manager (`domain.access.may_move_work_of` has the last word)."""
    if not (scope.sees_all or scope.is_manager):
        return {}
    key = str(detail.agreement["agreement_id"])
    shown: dict[str, Any] = {}
    if detail.runs:  # the agreement's page: the latest changes in effect
        run = read_side.list_slice(conn, rm, "changes", key, LIST_SHOWN)
        changes = run.rows
        shown = {"runs": {"changes": run}, "named": named(conn, rm, key, changes, detail.children)}
    else:  # the revert preview's page: every change (which a revert would undo)
        changes = read_side.children(conn, rm, "changes", [key]).get(key, [])
        shown = {"named": named_all(changes, detail.children)}
    receivers: list[read_side.Named] = []
    if detail.manager_id is not None:
        # Only the names the form's list shows (each a sealed value to open); read with
        # the page's names when it was (`_detail`).
        receivers = (
            list(detail.reports)
            if detail.reports is not None
            else [
                (r["person_id"], r["display_name"])
                for r in read_side.reports_of(conn, rm, detail.manager_id, read_side.NAMED)
            ]
        )
        # The manager's name was read with the page's names (`_detail`): no query more.
        if detail.manager_id in detail.names:
            receivers.append((detail.manager_id, detail.names[detail.manager_id]))
    employee = detail.agreement["employee_id"]
    # The same names on every request: opened, sorted and rendered once, then kept by
    # the key ring while their keys stay cached (`domain.sealing.Kept`).
    others = tuple(r for r in receivers if r[0] != employee)
    return {"changes": changes, "receivers": Kept(others, receiver_options)} | shown


def named(
    conn: Connection, rm: ReadModel, key: str, changes: list[Row], children: dict[str, list[Row]]
) -> dict[str, dict[str, Row]]:
    """What the changes' labels name, by id: the adjustments and reallocations they
    added and the changes a revert reverted (those not among `children` or `changes`
    read by id, so a run of changes costs the same however long the history)."""
    found = named_all(changes, children)
    wanted = {
        "adjustments": {c["subject_id"] for c in changes if c["kind"] == "ADJUSTMENT_ADDED"},
        "reallocations": {c["subject_id"] for c in changes if c["kind"] == "TASK_REALLOCATED"},
        "changes": {c["root_id"] for c in changes if c["kind"] == "CHANGE_REVERTED"},
    }
    for kind, ids in wanted.items():
        missing = ids - found[kind].keys()
        if missing:
            found[kind] |= read_side.children_by_id(conn, rm, kind, key, missing)
    return found


def named_all(changes: list[Row], children: dict[str, list[Row]]) -> dict[str, dict[str, Row]]:
    """What the changes' labels name when every change and child was read."""
    return {
        "adjustments": {r["adjustment_id"]: r for r in children.get("adjustments", [])},
        "reallocations": {r["reallocation_id"]: r for r in children.get("reallocations", [])},
        "changes": {r["change_id"]: r for r in changes},
    }


class ManagerPages:
    def __init__(self, pages: AgreementPages) -> None:
        self.pages = pages
        self.site = pages.site

    def routes(self, guarded: Callable[[Endpoint], Endpoint]) -> list[Route]:
        """Every route of the manager's side of an agreement."""
        base = "/agreements/{agreement_id}"
        actions = [
            Route(
                f"{base}/{name}",
                guarded(
                    partial(
                        self.pages.act,
                        action=name,
                        build=build,
                        labels=forms.label,
                        where=forms.where(name),
                        explain=self.room_left if name == "reallocate" else None,
                        confirm=CONFIRM.get(name),
                    )
                ),
                methods=["POST"],
            )
            for name, build in forms.BUILDS.items()
        ]
        return [
            *actions,
            Route(f"{base}/revert", guarded(self.revert), methods=["POST"]),
            Route(f"{base}/revert-to", guarded(self.revert_to_preview)),
            Route(f"{base}/revert-to", guarded(self.revert_to), methods=["POST"]),
            Route(f"{base}/reallocate/check", guarded(self.check_receiver)),
        ]

    async def revert(self, request: Request) -> Response:
        # Each change has its own form: the refusal is shown by the one that was sent.
        change_id = Submitted.of(await request.form()).get("changeId")
        return await self.pages.act(
            request,
            f"revert-{change_id}",
            forms.revert_change,
            labels=forms.label,
            confirm=CONFIRM["revert"],
        )

    async def _load_of(
        self, session: Session, detail: Detail, pid: str
    ) -> tuple[str, float] | None:
        """A receiver's name and net received hours, if this person may move the
        agreement's work to them (nobody else's load is told)."""
        employee = detail.agreement["employee_id"]
        role = acting_role(session.actor, Party.MANAGER, employee, detail.manager_id)
        person, net = await asyncio.to_thread(
            self.site.ports.reads.run,
            lambda conn, rm: (
                read_side.people_by_id(conn, rm, [pid]).get(pid),
                read_side.net_received(conn, rm, [pid])[pid],
            ),
        )
        if (
            person is None
            or not person["active"]
            or pid == employee
            or not may_move_work_of(role, session.actor.id, employee, pid, person["manager_id"])
        ):
            return None
        return str(person["display_name"]), float(net)

    async def room_left(
        self, session: Session, detail: Detail, form: Submitted, error: DomainError
    ) -> str | None:
        """A reallocation over the receiving limit, told as what would fit."""
        if not isinstance(error, ReceiverOverloaded):
            return None
        found = await self._load_of(session, detail, form.get("toPersonId")[:128])
        if found is None:
            return None
        name, net = found
        room = max(0.0, self.site.ports.reads.receiving_limit_per_week - net)
        if room == 0:
            return f"{name} cannot take more reallocated work: they are at the limit already."
        return f"{name} can take {room:g} h more a week."

    async def check_receiver(self, request: Request) -> Response:
        """A reallocation's receiver against the receiving limit, as the form is filled
        in (htmx): judged by the rule the command applies (`domain.ledger.overloads`),
        on the read models' hours."""
        found = await self.pages.acting(request, Party.MANAGER)
        if isinstance(found, Response):
            return found
        session, detail = found
        pid = request.query_params.get("toPersonId", "")[:128]
        values: dict[str, Any] = {"limit": self.site.ports.reads.receiving_limit_per_week}
        load = await self._load_of(session, detail, pid)
        if load is not None:
            values |= {"name": load[0], "net": load[1]}
            try:
                hours = Submitted({"h": request.query_params.get("hoursPerWeek", "")}, {}).number(
                    "h", "Hours per week"
                )
            except ValueError:
                hours = None
            if hours is not None and hours > 0:
                after = load[1] + hours
                values |= {"after": after, "over": overloads(load[1], after, values["limit"])}
        return self.site.render(request, "manager_check.html", session, **values)

    async def _preview(
        self,
        request: Request,
        session: Session,
        detail: Detail,
        version_text: str,
        status: int = 200,
        values: dict[str, Any] | None = None,
    ) -> Response:
        """What a revert to the version would undo, judged by the command itself on a
        dry run at the version this page shows (nothing is recorded)."""
        shown: dict[str, Any] = {"version": version_text, "errors": {}, "form": {}}
        shown |= values or {}
        row = detail.agreement
        try:
            version = Submitted({"version": version_text}, {}).whole("version", "Version")
            result = await asyncio.to_thread(
                self.site.ports.commands.execute,
                self.site.command_request(session),
                c.RevertToVersion(
                    agreement_id=UUID(str(row["agreement_id"])),
                    expected_version=row["version"],
                    reason=forms.PREVIEW_REASON,
                    version=version,
                    dry_run=True,
                ),
            )
        except Forbidden:
            return self.site.not_found(request, session)
        except VersionConflict:  # the read models are behind the agreement
            shown["conflict"] = PREVIEW_CONFLICT
            status = 409
        except NothingToRevert as error:
            if status >= 400:  # a confirmed revert refused: an error on the form
                shown["errors"] = {"version": error.message} | shown["errors"]
            else:  # a preview's answer, not a mistake: said as information
                shown["nothing"] = error.message
        except (DomainError, ValueError) as error:
            field = getattr(error, "field", None) or "version"
            shown["errors"] = {field: getattr(error, "message", str(error))} | shown["errors"]
            status = status if status >= 400 else 422
        else:
            by_id = {ch["change_id"]: ch for ch in detail.more.get("changes", [])}
            shown["would_revert"] = [by_id[i] for i in result.would_revert if i in by_id]
        return self.site.render(
            request,
            "revert_to.html",
            session,
            status,
            a=row,
            children=detail.children,
            names=detail.names,
            named=detail.more.get("named", {}),
            **shown,
        )

    async def revert_to_preview(self, request: Request) -> Response:
        found = await self.pages.acting(request, Party.MANAGER)
        if isinstance(found, Response):
            return found
        session, detail = found
        return await self._preview(
            request, session, detail, request.query_params.get("version", "")
        )

    async def revert_to(self, request: Request) -> Response:
        """Confirmed: runs at the version the preview was computed at (a changed
        agreement gets the conflict, with the preview as it would be now)."""
        version_text = Submitted.of(await request.form()).get("version")

        async def refused(
            request: Request, session: Session, detail: Detail, status: int, values: dict[str, Any]
        ) -> Response:
            return await self._preview(request, session, detail, version_text, status, values)

        return await self.pages.act(request, "revert-to", forms.revert_to_version, refused)
