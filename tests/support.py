"""Test helpers: callers, a small directory, and commands with sensible defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from domain.access import Actor
from domain.agreement import Agreement
from domain.application import CraftingApplication, Request
from domain.application import commands as c
from domain.person import Profile
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Guardrails, Role


def request(actor_id: str, *roles: Role) -> Request:
    return Request(Actor(actor_id, frozenset(roles)), correlation_id=str(uuid4()))


def guardrails(
    max_hours: float = 6, protected: tuple[str, ...] = ("release sign-off",), every: int = 14
) -> Guardrails:
    return Guardrails(max_hours, protected, every)


def draft(
    hours: float = 2,
    kind: AdjustmentKind = AdjustmentKind.TASK,
    description: str = "Write one feature brief",
) -> AdjustmentDraft:
    return AdjustmentDraft(kind, description, hours)


@dataclass
class Org:
    """A team with random ids, so tests sharing a database never collide."""

    app: CraftingApplication
    suffix: str = field(default_factory=lambda: uuid4().hex[:8])

    def __post_init__(self) -> None:
        s = self.suffix
        self.hr_id, self.manager_id, self.other_manager_id = f"hr-{s}", f"mgr-{s}", f"mgr2-{s}"
        self.employee_id, self.mate_id, self.mate2_id = f"emp-{s}", f"mate-{s}", f"mate2-{s}"
        self.stranger_id = f"stranger-{s}"
        self.hr = request(self.hr_id, Role.HR)
        self.manager = request(self.manager_id, Role.MANAGER, Role.EMPLOYEE)
        self.other_manager = request(self.other_manager_id, Role.MANAGER, Role.EMPLOYEE)
        self.employee = request(self.employee_id, Role.EMPLOYEE)
        self.stranger = request(self.stranger_id, Role.EMPLOYEE)
        self.auditor = request(f"auditor-{s}", Role.AUDITOR)
        team = f"team-{s}"
        people = [
            (self.hr_id, None),
            (self.manager_id, None),
            (self.other_manager_id, None),
            (self.employee_id, self.manager_id),
            (self.mate_id, self.manager_id),
            (self.mate2_id, self.manager_id),
            (self.stranger_id, self.other_manager_id),
        ]
        self.app.execute(
            self.hr,
            c.UpsertPeople(
                people=[
                    c.DirectoryEntry(
                        pid, Profile(pid.title(), f"{pid}@example.com", mgr, team, 40, True)
                    )
                    for pid, mgr in people
                ]
            ),
        )

    def propose(self, *drafts: AdjustmentDraft, **kw: Any) -> Agreement:
        result = self.app.execute(
            self.employee,
            c.ProposeAgreement(
                title="Tester to product manager",
                career_goal=CareerGoal("Product manager", ("customer research", "roadmapping")),
                adjustments=list(drafts) or [draft()],
                **kw,
            ),
        )
        assert result.agreement is not None
        return result.agreement

    def active(self, *drafts: AdjustmentDraft, rails: Guardrails | None = None) -> Agreement:
        agreement = self.propose(*drafts)
        return self.run(
            self.manager,
            c.ApproveAgreement(agreement_id=agreement.id, guardrails=rails or guardrails()),
        )

    def run(self, req: Request, command: c.Command) -> Agreement:
        result = self.app.execute(req, command)
        assert result.agreement is not None
        return result.agreement


def positions(app: CraftingApplication) -> int:
    return app.recorder.max_notification_id() or 0


def event_types(app: CraftingApplication, agreement_id: UUID) -> list[str]:
    return [type(e).__name__ for e in app.history(agreement_id)]


class CountingChecks(type):
    """A stand-in for the library's runtime protocol `CanMutateProtocol` that counts the
    isinstance checks made against it (domain.application.replay skips them)."""

    calls = 0

    def __instancecheck__(cls, instance: object) -> bool:
        CountingChecks.calls += 1
        return True


class Checked(metaclass=CountingChecks):
    pass
