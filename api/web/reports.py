"""A manager's team view: one row per report — their agreement's status, career goal,
development hours against the guardrail, hours given and received against the limit,
the next review (overdue in words) and what awaits whom — sortable and filterable by
plain links and a form (no script needed)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from api import read_side
from api.read_side import Row
from api.web.navigation import REVIEW_HORIZON
from api.web.site import Site, scope_of, to_sign_in
from domain.ledger import limit_reached
from domain.values import Role

STATUS_WORDS = {
    "PROPOSED": "proposed",
    "CHANGES_REQUESTED": "changes requested",
    "ACTIVE": "active",
    "PAUSED": "paused",
    "COMPLETED": "completed",
    "REJECTED": "rejected",
    "WITHDRAWN": "withdrawn",
}
SORTS = {
    "name": "Name",
    "status": "Status",
    "development": "Development hours",
    "net": "Net hours received",
    "review": "Next review",
}
AWAITING = {"": "Anyone", "you": "Awaiting you", "them": "Awaiting the report", "none": "Nothing"}


def review_words(due: date | None, today: date) -> str:
    """A review date in words: "overdue by 3 days", "due today", "in 5 days"."""
    if due is None:
        return "not scheduled"
    days = (due - today).days
    if days < 0:
        return f"overdue by {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "due today"
    return f"in {days} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class ReportRow:
    person_id: str
    name: str
    agreement: Row | None
    development: float
    guardrail: float | None
    given: float
    received: float
    net: float
    reached: bool
    awaits: str  # "you", "them" or "none"
    awaits_words: str
    review: date | None
    review_words: str

    @property
    def status(self) -> str:
        return "none" if self.agreement is None else str(self.agreement["status"])

    @property
    def status_words(self) -> str:
        return "no agreement" if self.agreement is None else STATUS_WORDS.get(self.status, "")


def _awaits(agreement: Row | None, name: str, today: date) -> tuple[str, str]:
    """Who must act next on the agreement, and what, in words."""
    if agreement is None:
        return "them", f"{name}: propose an agreement"
    status, due = agreement["status"], agreement["next_review_on"]
    if status == "PROPOSED":
        return "you", "You: decide on the proposal"
    if status == "CHANGES_REQUESTED":
        return "them", f"{name}: revise the proposal"
    if status == "PAUSED":
        return "you", "You: resume or complete it"
    if status == "ACTIVE" and due is not None and due <= today + REVIEW_HORIZON:
        return "you", "You: record a review"
    return "none", "Nothing now"


def rows_of(found: dict[str, Any], limit: float, today: date) -> list[ReportRow]:
    rows = []
    for person in found["people"]:
        pid, name = person["person_id"], person["display_name"]
        hours = found["hours"].get(pid, {})
        agreement = found["agreements"].get(pid)
        given, received = float(hours.get("hours_given", 0)), float(hours.get("hours_received", 0))
        running = agreement is not None and agreement["status"] == "ACTIVE"
        due = agreement["next_review_on"] if running and agreement is not None else None
        who, what = _awaits(agreement, name, today)
        guardrails = (agreement or {}).get("guardrails") or {}
        rows.append(
            ReportRow(
                person_id=pid,
                name=name,
                agreement=agreement,
                development=float(hours.get("development_hours", 0)),
                guardrail=guardrails.get("maxDevelopmentHoursPerWeek"),
                given=given,
                received=received,
                net=received - given,
                reached=limit_reached(received - given, limit),
                awaits=who,
                awaits_words=what,
                review=due,
                review_words=review_words(due, today) if running else "—",
            )
        )
    return rows


def sorted_rows(rows: list[ReportRow], key: str, descending: bool) -> list[ReportRow]:
    far = date.max

    def by(r: ReportRow) -> Any:
        if key == "status":
            return (r.status_words, r.name.casefold())
        if key == "development":
            return (r.development, r.name.casefold())
        if key == "net":
            return (r.net, r.name.casefold())
        if key == "review":
            return (r.review or far, r.name.casefold())
        return r.name.casefold()

    return sorted(rows, key=by, reverse=descending)


class ReportPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def reports(self, request: Request) -> Response:
        """The signed-in manager's reports (only a manager has reports to show)."""
        session = await self.site.session(request)
        if session is None:
            return to_sign_in()
        actor = session.actor
        if not actor.has(Role.MANAGER):
            return self.site.not_found(request, session)
        params = request.query_params
        sort = params.get("sort", "name")
        sort = sort if sort in SORTS else "name"
        descending = params.get("order") == "desc"
        status = params.get("status", "")
        status = status if status in (*STATUS_WORDS, "none") else ""
        awaits = params.get("awaits", "")
        awaits = awaits if awaits in AWAITING else ""
        words = params.get("q", "")[:100].strip()
        scope, today = scope_of(session), datetime.now(UTC).date()
        reads = self.site.ports.reads
        found = await asyncio.to_thread(
            reads.run, lambda conn, rm: read_side.reports(conn, rm, scope, actor.id)
        )
        rows = rows_of(found, reads.receiving_limit_per_week, today)
        everyone = len(rows)
        if status:
            rows = [r for r in rows if r.status == status]
        if awaits:
            rows = [r for r in rows if r.awaits == awaits]
        if words:
            rows = [r for r in rows if words.casefold() in r.name.casefold()]
        return self.site.render(
            request,
            "reports.html",
            session,
            rows=sorted_rows(rows, sort, descending),
            everyone=everyone,
            limit=reads.receiving_limit_per_week,
            sort=sort,
            descending=descending,
            sorts=SORTS,
            statuses=STATUS_WORDS,
            picked=status,
            awaiting=AWAITING,
            awaits=awaits,
            words=words,
            today=today,
        )
