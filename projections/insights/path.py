"""A person's path over their agreements: each goal, when it ran, what it led to, how
long that took and about how many hours went into it. GraphQL's `careerPath` and the
web's career page compose it here.

Hours invested are an estimate: the development hours per week in effect now (at the
end, for an ended agreement) times the weeks from approval to the end (or today), paused
weeks included. The exact figure would replay every adjustment's history; the estimate
is what a promotion conversation needs and is labelled as one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from projections import queries as q
from projections.insights.facts import LIFECYCLE, OUTCOME_EVENTS, AgreementFacts, apply_event, utc
from projections.rows import Row
from projections.tables import ReadModel

MOST_AGREEMENTS = 10_000


def path_rows(conn: Connection, rm: ReadModel, viewer: q.ReadScope, person_id: str) -> list[Row]:
    """The person's agreements `viewer` may read, oldest first, each with `_path`:
    approved/ended instants and the outcome in effect (kind, achieved on)."""
    rows = q.list_agreements(
        conn, rm, viewer, q.AgreementCriteria(employee_id=person_id), MOST_AGREEMENTS, None
    )
    facts = {
        r["agreement_id"]: AgreementFacts(
            r["agreement_id"], person_id, r["status"], "", float(r["development_hours"]), None
        )
        for r in rows
    }
    log = rm.audit_log
    for start in range(0, len(facts), q.CHUNK):
        ids = list(facts)[start : start + q.CHUNK]
        events = conn.execute(
            select(log.c.type, log.c.agreement_id, log.c.recorded_at, log.c.payload)
            .where(log.c.agreement_id.in_(ids), log.c.type.in_(LIFECYCLE + OUTCOME_EVENTS))
            .order_by(log.c.position)
        )
        for kind, aid, at, payload in events:
            apply_event(facts[aid], kind, utc(at), payload or {})
    ordered = sorted(rows, key=lambda r: r["created_position"])
    return [{**r, "_path": facts[r["agreement_id"]]} for r in ordered]


def step(row: Row, now: datetime) -> dict[str, object]:
    """One agreement's place on the path."""
    found: AgreementFacts = row["_path"]
    outcome = found.outcome
    started = found.approved_at
    until = found.ended_at or now
    days = None
    if started is not None and outcome is not None:
        days = (outcome[2] - started.date()).days
    weeks = 0.0 if started is None else max(0.0, (until - started).total_seconds() / 604_800)
    return {
        "started_at": started,
        "ended_at": found.ended_at,
        "outcome": None if outcome is None else outcome[1],
        "outcome_on": None if outcome is None else outcome[2],
        "days_to_outcome": days,
        "hours_invested": round(found.development_hours * weeks, 1),
    }
