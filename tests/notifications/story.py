"""The seed story's people for the notification tests, with random ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from uuid import UUID, uuid4

from domain.application import CraftingApplication, Request
from domain.application import commands as c
from domain.person import Profile
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Guardrails, Role
from infra.bootstrap import Container
from tests.support import request


@dataclass
class Story:
    app: CraftingApplication
    s: str = field(default_factory=lambda: uuid4().hex[:6])

    def __post_init__(self) -> None:
        s = self.s
        self.sam, self.priya, self.lena, self.hr_id = (
            f"sam-{s}",
            f"priya-{s}",
            f"lena-{s}",
            f"hr-{s}",
        )
        self.as_sam = request(self.sam, Role.EMPLOYEE)
        self.as_priya = request(self.priya, Role.MANAGER, Role.EMPLOYEE)
        self.as_hr = request(self.hr_id, Role.HR)
        people = [
            (self.priya, "Priya Raman", None),
            (self.sam, "Sam Tester", self.priya),
            (self.lena, "Lena Okafor", self.priya),
            (self.hr_id, "Hana Ruiz", None),
        ]
        self.app.execute(
            self.as_hr,
            c.UpsertPeople(
                people=[
                    c.DirectoryEntry(
                        pid, Profile(name, f"{pid}@example.com", mgr, f"qa-{s}", 40, True)
                    )
                    for pid, name, mgr in people
                ]
            ),
        )

    def address(self, person: str) -> str:
        return f"{person}@example.com"

    def propose(self) -> UUID:
        result = self.app.execute(
            self.as_sam,
            c.ProposeAgreement(
                title="From testing toward product management",
                career_goal=CareerGoal("Product manager", ("customer research",)),
                adjustments=[AdjustmentDraft(AdjustmentKind.TASK, "Write one feature brief", 2)],
            ),
        )
        assert result.agreement is not None
        return result.agreement.id

    def run(self, req: Request, command: c.Command) -> None:
        self.app.execute(req, command)

    def revise(self, aid: UUID) -> None:
        self.run(
            self.as_sam,
            c.ReviseProposal(
                agreement_id=aid,
                title="From testing toward product management",
                career_goal=CareerGoal("Product manager", ("customer research",)),
                adjustments=[AdjustmentDraft(AdjustmentKind.TASK, "Brief bulk export v2", 2)],
            ),
        )

    def hand_over_triage(self, aid: UUID) -> None:
        """Priya moves an hour of Sam's triage to Lena."""
        self.run(
            self.as_priya,
            c.ReallocateTask(
                agreement_id=aid,
                task="Triage",
                hours_per_week=1,
                to_person_id=self.lena,
                reason="Time",
            ),
        )

    def approve(self, aid: UUID) -> None:
        self.run(
            self.as_priya, c.ApproveAgreement(agreement_id=aid, guardrails=Guardrails(6, (), 14))
        )


def to(messages: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in messages if address in str(m["To"])]


def plain(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def html(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def settle(container: Container) -> None:
    """The read models caught up (the dispatcher reads names and titles there)."""
    container.projector.catch_up()
