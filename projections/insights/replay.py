"""What each agreement's development hours, status and next review, and each person's
contracted hours, *were* at a past instant, replayed from the audit log's events: the
full computation's reference for the monthly series of development time and reviews
(projections.insights.series), which the read models cannot give (they hold today's).

An agreement's development hours are derived as the aggregate derives them
(domain.agreement.state.hours_in_effect over its adjustments in effect): a proposal
(or a revised one) brings its adjustments, `AdjustmentAdded` adds one, and each
`ChangeReverted` switches the adjustment its chain started with off or on (reverting a
revert re-applies it). Its next review is the approval's, then the latest review's.

Pure: `read_facts` feeds it the events in log order (projections.insights.facts)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.agreement.state import hours_in_effect
from domain.values import AgreementStatus, ChangeStatus

# The agreement events that change what is replayed (besides the lifecycle's).
EVENTS = (
    "Proposed",
    "ProposalRevised",
    "ChangesRequested",
    "Approved",
    "Rejected",
    "AdjustmentAdded",
    "ChangeReverted",
    "ReviewRecorded",
    "Paused",
    "Resumed",
    "Completed",
    "Withdrawn",
)
_STATUS = {
    "Proposed": AgreementStatus.PROPOSED,
    "ProposalRevised": AgreementStatus.PROPOSED,
    "ChangesRequested": AgreementStatus.CHANGES_REQUESTED,
    "Approved": AgreementStatus.ACTIVE,
    "Rejected": AgreementStatus.REJECTED,
    "Paused": AgreementStatus.PAUSED,
    "Resumed": AgreementStatus.ACTIVE,
    "Completed": AgreementStatus.COMPLETED,
    "Withdrawn": AgreementStatus.WITHDRAWN,
}
RUNNING = frozenset({str(AgreementStatus.ACTIVE), str(AgreementStatus.PAUSED)})
ACTIVE = str(AgreementStatus.ACTIVE)


@dataclass(frozen=True)
class State:
    """One agreement as it was from an instant on."""

    status: str
    development_hours: float
    next_review_on: date | None

    @property
    def running(self) -> bool:
        return self.status in RUNNING


@dataclass
class Timeline:
    """One agreement's states, each from the time of the event that made it."""

    employee_id: str
    since: list[datetime] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    # Replay state: adjustment id -> [hours per week, in effect], in the order added;
    # a change id -> the adjustment its chain started with (adjustments' chains only).
    adjustments: dict[str, list[Any]] = field(default_factory=dict)
    chains: dict[str, str] = field(default_factory=dict)

    def at(self, instant: datetime) -> State | None:
        """The state after the latest event up to `instant` (None: not proposed yet)."""
        found = bisect_right(self.since, instant)
        return self.states[found - 1] if found else None


@dataclass
class Replay:
    """Every agreement's timeline and every person's contracted hours over time."""

    timelines: dict[str, Timeline] = field(default_factory=dict)
    # person id -> ([since], [contracted hours per week from then on]), oldest first
    contracted: dict[str, tuple[list[datetime], list[float]]] = field(default_factory=dict)

    def profile(self, pid: str, at: datetime, profile: dict[str, Any]) -> None:
        """A `Registered` or `ProfileChanged` event's profile."""
        since, hours = self.contracted.setdefault(pid, ([], []))
        since.append(at)
        hours.append(float(profile.get("contractedHoursPerWeek") or 0.0))

    def contracted_at(self, pid: str, instant: datetime) -> float:
        since, hours = self.contracted.get(pid, ([], []))
        found = bisect_right(since, instant)
        return hours[found - 1] if found else 0.0

    def apply(
        self, aid: str, employee_id: str, kind: str, at: datetime, payload: dict[str, Any]
    ) -> None:
        """One agreement event of `EVENTS`, in log order."""
        timeline = self.timelines.setdefault(aid, Timeline(employee_id))
        before = timeline.states[-1] if timeline.states else State("", 0.0, None)
        status, next_review = _STATUS.get(kind), before.next_review_on
        if kind in ("Proposed", "ProposalRevised"):
            timeline.adjustments.clear()
            timeline.chains.clear()
            for item in payload.get("adjustments") or []:
                _add(timeline, item)
        elif kind == "AdjustmentAdded":
            _add(timeline, payload["adjustment"])
        elif kind == "ChangeReverted":
            started = timeline.chains.get(str(payload["revertedChangeId"]))
            if started is not None:  # an adjustment's chain (else guardrails, a task...)
                timeline.chains[str(payload["changeId"])] = started
                item = timeline.adjustments[started]
                item[1] = not item[1]
        elif kind == "Approved":
            next_review = _day(payload.get("nextReviewOn"))
        elif kind == "ReviewRecorded":
            next_review = _day((payload.get("review") or {}).get("nextReviewOn"))
        hours = hours_in_effect(
            (h, str(ChangeStatus.ACTIVE if on else ChangeStatus.REVERTED))
            for h, on in timeline.adjustments.values()
        )
        timeline.since.append(at)
        timeline.states.append(
            State(before.status if status is None else str(status), hours, next_review)
        )


def _add(timeline: Timeline, item: dict[str, Any]) -> None:
    on = str(item.get("status") or ChangeStatus.ACTIVE) == str(ChangeStatus.ACTIVE)
    timeline.adjustments[str(item["id"])] = [float(item["hoursPerWeek"]), on]
    timeline.chains[str(item["changeId"])] = str(item["id"])


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))
