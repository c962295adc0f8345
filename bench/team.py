"""The team the application-driven benchmarks (lag, time travel) give their commands
as: HR, a manager with one employee, and an auditor, with random ids so runs sharing a
database never collide."""

from __future__ import annotations

from uuid import uuid4

from domain.access import Actor
from domain.agreement import Agreement
from domain.application import CraftingApplication, Request
from domain.application import commands as c
from domain.person import Profile
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Guardrails, Role

GUARDRAILS = Guardrails(6, ("release sign-off",), 14)
GOAL = CareerGoal("Product manager", ("customer research", "roadmapping"))


def draft(hours: float = 2) -> AdjustmentDraft:
    """A task adjustment of `hours` a week."""
    return AdjustmentDraft(AdjustmentKind.TASK, "Write one feature brief", hours)


class Team:
    """Registers its people in the directory when made; commands run through `execute`."""

    def __init__(self, app: CraftingApplication) -> None:
        self.app = app
        suffix = uuid4().hex[:8]
        manager_id, employee_id = f"mgr-{suffix}", f"emp-{suffix}"
        self.hr = _request(f"hr-{suffix}", Role.HR)
        self.manager = _request(manager_id, Role.MANAGER, Role.EMPLOYEE)
        self.employee = _request(employee_id, Role.EMPLOYEE)
        self.auditor = _request(f"auditor-{suffix}", Role.AUDITOR)
        people = [
            c.DirectoryEntry(
                pid, Profile(pid.title(), f"{pid}@example.com", boss, suffix, 40, True)
            )
            for pid, boss in ((manager_id, None), (employee_id, manager_id))
        ]
        app.execute(self.hr, c.UpsertPeople(people=people))

    def active(self) -> Agreement:
        """A new agreement of the employee with one adjustment, approved by the manager."""
        proposal = c.ProposeAgreement(
            title="Tester to product manager", career_goal=GOAL, adjustments=[draft()]
        )
        aid = self.run(self.employee, proposal).id
        return self.run(self.manager, c.ApproveAgreement(agreement_id=aid, guardrails=GUARDRAILS))

    def run(self, request: Request, command: c.Command) -> Agreement:
        """Execute `command` as `request`; the agreement it changed."""
        result = self.app.execute(request, command)
        assert result.agreement is not None, command
        return result.agreement


def _request(actor_id: str, *roles: Role) -> Request:
    return Request(Actor(actor_id, frozenset(roles)), correlation_id=str(uuid4()))
