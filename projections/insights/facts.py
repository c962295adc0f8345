"""What the insights are computed from, read in one go from the read models: the
directory's history (who was in which team, active, when), each agreement's running
period and outcomes (from the audit log, so the monthly series come from the log and
not only from today's rows), and today's agreements and reallocations.

`read_facts` runs inside `Reads.run`, which opens the sealed texts (the target roles;
an erased person's read "[erased]" and are never shown, see figures.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from projections.insights.replay import EVENTS as REPLAYED
from projections.insights.replay import Replay
from projections.tables import ReadModel

LIFECYCLE = ("Approved", "Completed", "Withdrawn")
OUTCOME_EVENTS = ("OutcomeRecorded", "OutcomeReverted")
PROFILE_EVENTS = ("Registered", "ProfileChanged")


@dataclass
class Membership:
    """A person's team and whether they were active, from `since` on."""

    since: datetime
    team_id: str | None
    active: bool


@dataclass
class AgreementFacts:
    agreement_id: str
    employee_id: str
    status: str
    target_role: str
    development_hours: float
    next_review_on: date | None
    approved_at: datetime | None = None
    ended_at: datetime | None = None
    # Outcomes in effect, as (id, kind, achieved_on), oldest first.
    outcomes: list[tuple[str, str, date]] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)  # of the career goal

    def running_at(self, instant: datetime) -> bool:
        """Approved by `instant` and not yet completed or withdrawn (paused counts)."""
        if self.approved_at is None or self.approved_at > instant:
            return False
        return self.ended_at is None or self.ended_at > instant

    @property
    def outcome(self) -> tuple[str, str, date] | None:
        return self.outcomes[-1] if self.outcomes else None


@dataclass
class Facts:
    # person id -> their memberships, oldest first
    memberships: dict[str, list[Membership]]
    contracted_hours: dict[str, float]  # person id -> hours per week now
    agreements: list[AgreementFacts]
    # (from person, to person, hours per week) of the reallocations in effect now
    reallocations: list[tuple[str, str, float]]
    # (person, skills) of each artifact recorded on their agreements
    evidence: list[tuple[str, list[str]]] = field(default_factory=list)
    # Development hours, statuses, next reviews and contracted hours at past instants
    # (the monthly series of development time and reviews: projections.insights.series)
    replay: Replay = field(default_factory=Replay)


def read_facts(conn: Connection, rm: ReadModel) -> Facts:
    """Everything the insights need, in a handful of selects."""
    p, a, log = rm.people, rm.agreements, rm.audit_log
    people = conn.execute(select(p.c.person_id, p.c.stream_id, p.c.contracted_hours_per_week)).all()
    person_of = {stream: pid for pid, stream, _ in people}
    contracted = {pid: float(hours) for pid, _, hours in people}
    memberships: dict[str, list[Membership]] = {pid: [] for pid in contracted}
    agreements = {
        r.agreement_id: AgreementFacts(
            r.agreement_id,
            r.employee_id,
            r.status,
            r.target_role,
            float(r.development_hours),
            r.next_review_on,
            skills=list(r.skills or []),
        )
        for r in conn.execute(
            select(
                a.c.agreement_id,
                a.c.employee_id,
                a.c.status,
                a.c.target_role,
                a.c.development_hours,
                a.c.next_review_on,
                a.c.skills,
            ).order_by(a.c.created_position)  # a person's same-day outcomes: the first wins
        )
    }
    replay = Replay()
    events = conn.execute(
        select(log.c.type, log.c.stream_id, log.c.agreement_id, log.c.recorded_at, log.c.payload)
        .where(log.c.type.in_(sorted({*LIFECYCLE, *OUTCOME_EVENTS, *PROFILE_EVENTS, *REPLAYED})))
        .order_by(log.c.position)
    )
    for kind, stream_id, agreement_id, stored_at, payload in events:
        recorded_at = utc(stored_at)
        if kind in PROFILE_EVENTS:
            pid = person_of.get(stream_id)
            profile: dict[str, Any] = (payload or {}).get("profile") or {}
            if pid is not None:
                memberships[pid].append(
                    Membership(recorded_at, profile.get("teamId"), bool(profile.get("active")))
                )
                replay.profile(pid, recorded_at, profile)
            continue
        found = agreements.get(agreement_id)
        if found is not None:
            if kind in REPLAYED:
                replay.apply(
                    found.agreement_id, found.employee_id, kind, recorded_at, payload or {}
                )
            apply_event(found, kind, recorded_at, payload or {})
    reallocations = [
        (r.from_person_id, r.to_person_id, float(r.hours_per_week))
        for r in conn.execute(
            select(
                rm.reallocations.c.from_person_id,
                rm.reallocations.c.to_person_id,
                rm.reallocations.c.hours_per_week,
            ).where(rm.reallocations.c.status == "ACTIVE")
        )
    ]
    art = rm.artifacts
    evidence = [
        (employee, list(skills or []))
        for employee, skills in conn.execute(select(art.c.employee_id, art.c.skills))
    ]
    return Facts(
        memberships, contracted, list(agreements.values()), reallocations, evidence, replay
    )


def apply_event(found: AgreementFacts, kind: str, at: datetime, payload: dict[str, Any]) -> None:
    """What one lifecycle or outcome event of the audit log tells about its agreement."""
    if kind == "Approved":
        found.approved_at = at
    elif kind in ("Completed", "Withdrawn"):
        found.ended_at = at
    elif kind == "OutcomeRecorded":
        achieved = date.fromisoformat(str(payload["achievedOn"]))
        found.outcomes.append((str(payload["outcomeId"]), str(payload["kind"]), achieved))
    elif kind == "OutcomeReverted":
        found.outcomes = [o for o in found.outcomes if o[0] != payload.get("outcomeId")]


def utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored in UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def with_texts_opened(facts: Facts, open_texts: Callable[[Any], Any]) -> Facts:
    """The facts with their sealed target roles and skills opened by `open_texts` (one
    call for all of them, as the keys are looked up together): the full computation's
    input, where the served path opens only the labels it shows."""
    goals, evidenced = open_texts(
        [
            [[a.target_role, *a.skills] for a in facts.agreements],
            [skills for _, skills in facts.evidence],
        ]
    )
    for agreement, (role, *skills) in zip(facts.agreements, goals, strict=True):
        agreement.target_role, agreement.skills = role, skills
    facts.evidence = [(pid, s) for (pid, _), s in zip(facts.evidence, evidenced, strict=True)]
    return facts
