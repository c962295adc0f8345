"""A small organisation over HTTP, with random ids so tests never collide."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from domain.values import Role
from tests.e2e.conftest import Api

UPSERT = """mutation($input: UpsertPeopleInput!) { upsertPeople(input: $input) {
  people { personId } position userErrors { field message code } } }"""
PROPOSE = """mutation($input: ProposeAgreementInput!) { proposeAgreement(input: $input) {
  agreement { id version status adjustments { id changeId status } } position
  userErrors { field message code } } }"""
APPROVE = """mutation($input: ApproveAgreementInput!) { approveAgreement(input: $input) {
  agreement { id version status guardrails { maxDevelopmentHoursPerWeek }
  adjustments { id changeId status } } position
  userErrors { field message code } } }"""


@dataclass
class World:
    api: Api
    s: str = field(default_factory=lambda: uuid4().hex[:8])

    def __post_init__(self) -> None:
        s, api = self.s, self.api
        self.team = f"qa-{s}"
        self.ids = {
            name: f"{name}-{s}"
            for name in ("hr", "mgr", "mgr2", "emp", "mate", "mate2", "stranger")
        }
        i = self.ids
        self.hr = api.token(i["hr"], Role.HR)
        self.manager = api.token(i["mgr"], Role.MANAGER, Role.EMPLOYEE)
        self.other_manager = api.token(i["mgr2"], Role.MANAGER, Role.EMPLOYEE)
        self.employee = api.token(i["emp"], Role.EMPLOYEE)
        self.mate = api.token(i["mate"], Role.EMPLOYEE)
        self.stranger = api.token(i["stranger"], Role.EMPLOYEE)
        self.auditor = api.token(f"auditor-{s}", Role.AUDITOR)
        self.integration = api.token(f"workday-{s}", Role.INTEGRATION)
        people = [
            (i["hr"], None, f"hr-{s}"),
            (i["mgr"], None, self.team),
            (i["mgr2"], None, f"other-{s}"),
            (i["emp"], i["mgr"], self.team),
            (i["mate"], i["mgr"], self.team),
            (i["mate2"], i["mgr"], self.team),
            (i["stranger"], i["mgr2"], f"other-{s}"),
        ]
        self.upsert(people)
        self.sync()

    def upsert(self, people: list[tuple[str, str | None, str]]) -> None:
        """Add or change (id, manager id, team id) people through the integration's
        upsert, each named after their id, 40 contracted hours a week."""
        result = self.api.data(
            self.integration,
            UPSERT,
            input={
                "people": [
                    {
                        "id": pid,
                        "displayName": pid.title(),
                        "email": f"{pid}@example.com",
                        "managerId": mgr,
                        "teamId": team,
                        "contractedHoursPerWeek": 40,
                    }
                    for pid, mgr, team in people
                ]
            },
        )
        assert result["upsertPeople"]["userErrors"] == []

    def sync(self) -> None:
        """Wait until the read models include everything written so far."""
        self.api.data(
            self.hr,
            "query($p: Int) { agreements(first: 0, consistentWith: $p) { edges { cursor } } }",
            p=self.api.position(),
        )

    def propose(self, token: str | None = None, **extra: Any) -> dict[str, Any]:
        payload = self.api.data(
            token or self.employee,
            PROPOSE,
            input={
                "title": "Tester to product manager",
                "careerGoal": {
                    "targetRole": "Product manager",
                    "skills": ["customer research", "roadmapping"],
                },
                "adjustments": [
                    {"kind": "TASK", "description": "Write one feature brief", "hoursPerWeek": 2}
                ],
                **extra,
            },
        )["proposeAgreement"]
        assert payload["userErrors"] == [], payload
        agreement: dict[str, Any] = payload["agreement"]
        return agreement

    def active(self, max_hours: float = 6) -> dict[str, Any]:
        agreement = self.propose()
        payload = self.api.data(
            self.manager,
            APPROVE,
            input={
                "agreementId": agreement["id"],
                "guardrails": {
                    "maxDevelopmentHoursPerWeek": max_hours,
                    "reviewEveryDays": 14,
                    "protectedResponsibilities": ["Release sign-off"],
                },
            },
        )["approveAgreement"]
        assert payload["userErrors"] == [], payload
        approved: dict[str, Any] = payload["agreement"]
        # Pages read the agreement (and the version their forms send back) from the read
        # models: a test that opens one next must not race the projector (CI once got a
        # stale version in the sketch editor's form and a 409).
        self.sync()
        return approved
