"""Outcomes through GraphQL, and the insights query: what each role sees, and that a
manager's team below the minimum stays hidden (docs/insights.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest
from prometheus_client import REGISTRY

from domain.values import Role
from tests.e2e.conftest import Api, serving
from tests.e2e.world import APPROVE, PROPOSE, UPSERT

RECORD = """mutation($input: RecordOutcomeInput!) { recordOutcome(input: $input) {
  agreement { id version status } position userErrors { field code message } } }"""
REVERT = """mutation($input: RevertOutcomeInput!) { revertOutcome(input: $input) {
  agreement { version } position userErrors { field code } } }"""
COMPLETE = """mutation($input: AgreementCommandInput!) { completeAgreement(input: $input) {
  agreement { version status } userErrors { code } } }"""
INSIGHTS = """query($p: Int) { insights(consistentWith: $p) { minimumGroupSize
  participation { counts rows { group suppressed count others } total { count others }
    suppressedRows }
  participationByMonth { month table { rows { group count } } }
  developmentTime { rows { group value } total { value } }
  outcomesByTeam { rows { group suppressed count others value } total { count others } }
  outcomesByTargetRole { rows { group count } }
  reviews { rows { group suppressed } } skillsTargeted { rows { group count } total { count } }
  skillsEvidenced { rows { group } } fairnessRefusalsRecorded
  developmentTimeByMonth { month table { rows { group suppressed count others value }
    total { count others value } } }
  reviewsByMonth { month table { rows { group suppressed count others } total { count } } }
  } }"""


@pytest.fixture
def api(prepared_database_url: str) -> Iterator[Api]:
    with serving(prepared_database_url, insights_min_group=2) as served:
        yield served


class Org:
    """Teams qa, web and data (a manager and 4 reports each) and ops (2 people)."""

    def __init__(self, api: Api) -> None:
        self.api, s = api, uuid4().hex[:8]
        self.s = s
        self.hr = api.token(f"hr-{s}", Role.HR)
        self.auditor = api.token(f"aud-{s}", Role.AUDITOR)
        self.integration = api.token(f"sync-{s}", Role.INTEGRATION)
        people: list[tuple[str, str | None, str | None]] = [(f"hr-{s}", None, None)]
        for team, size in (("qa", 4), ("web", 4), ("data", 4), ("ops", 1)):
            people.append((f"{team}-mgr-{s}", None, f"{team}-{s}"))
            people += [(f"{team}-{i}-{s}", f"{team}-mgr-{s}", f"{team}-{s}") for i in range(size)]
        result = api.data(
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

    def manager(self, team: str) -> str:
        return self.api.token(f"{team}-mgr-{self.s}", Role.MANAGER, Role.EMPLOYEE)

    def active(self, team: str, i: int, role: str = "Product manager") -> str:
        employee = self.api.token(f"{team}-{i}-{self.s}", Role.EMPLOYEE)
        proposed = self.api.data(
            employee,
            PROPOSE,
            input={
                "title": "Growth plan",
                "careerGoal": {"targetRole": role, "skills": ["research"]},
                "adjustments": [{"kind": "TASK", "description": "Brief", "hoursPerWeek": 4}],
            },
        )["proposeAgreement"]["agreement"]
        approved = self.api.data(
            self.manager(team),
            APPROVE,
            input={
                "agreementId": proposed["id"],
                "guardrails": {"maxDevelopmentHoursPerWeek": 6, "reviewEveryDays": 14},
            },
        )["approveAgreement"]
        assert approved["userErrors"] == [], approved
        return str(proposed["id"])

    def insights(self, token: str) -> dict[str, Any]:
        return self.api.gql(token, INSIGHTS, p=self.api.position())


def _rows(table: dict[str, Any]) -> dict[str, Any]:
    return {r["group"]: r for r in table["rows"]}


def test_an_outcome_is_recorded_and_reverted_through_graphql(api: Api) -> None:
    org = Org(api)
    aid = org.active("qa", 0)
    manager = org.manager("qa")
    early = api.data(manager, RECORD, input={"agreementId": aid, "kind": "PROMOTED_IN_PLACE"})
    assert [e["code"] for e in early["recordOutcome"]["userErrors"]] == ["INVALID_TRANSITION"]
    done = api.data(manager, COMPLETE, input={"agreementId": aid})["completeAgreement"]
    stale = api.data(
        manager,
        RECORD,
        input={"agreementId": aid, "kind": "PROMOTED_IN_PLACE", "expectedVersion": 1},
    )["recordOutcome"]
    assert [e["code"] for e in stale["userErrors"]] == ["VERSION_CONFLICT"]
    unexplained = api.data(manager, RECORD, input={"agreementId": aid, "kind": "STOPPED"})
    assert unexplained["recordOutcome"]["userErrors"][0]["code"] == "REASON_REQUIRED"
    recorded = api.data(
        manager,
        RECORD,
        input={
            "agreementId": aid,
            "kind": "MOVED_TO_TARGET_ROLE",
            "expectedVersion": done["agreement"]["version"],
            "idempotencyKey": f"outcome-{aid}",
        },
    )["recordOutcome"]
    assert recorded["userErrors"] == []
    assert recorded["agreement"]["status"] == "COMPLETED"
    again = api.data(
        manager,
        RECORD,
        input={
            "agreementId": aid,
            "kind": "MOVED_TO_TARGET_ROLE",
            "expectedVersion": done["agreement"]["version"],
            "idempotencyKey": f"outcome-{aid}",
        },
    )["recordOutcome"]
    assert again["position"] == recorded["position"]
    employee = api.token(f"qa-0-{org.s}", Role.EMPLOYEE)
    path = api.data(
        employee,
        """query($p: String!, $at: Int) { careerPath(personId: $p, consistentWith: $at) {
           agreement { id careerGoal { targetRole } } startedAt endedAt outcome outcomeOn
           daysToOutcome hoursInvested } }""",
        p=f"qa-0-{org.s}",
        at=recorded["position"],
    )["careerPath"]
    (step,) = path
    assert step["agreement"]["id"] == aid
    assert step["agreement"]["careerGoal"]["targetRole"] == "Product manager"
    assert step["outcome"] == "MOVED_TO_TARGET_ROLE" and step["daysToOutcome"] == 0
    assert step["startedAt"] is not None and step["endedAt"] is not None
    assert 0 <= step["hoursInvested"] < 1  # 4 hours a week for a few seconds
    stranger = api.gql(
        api.token(f"web-0-{org.s}", Role.EMPLOYEE),
        "query($p: String!) { careerPath(personId: $p) { outcome } }",
        p=f"qa-0-{org.s}",
    )
    assert stranger["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
    refused = api.gql(employee, RECORD, input={"agreementId": aid, "kind": "PROMOTED_IN_PLACE"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reverted = api.data(org.hr, REVERT, input={"agreementId": aid, "reason": "Too early"})
    assert reverted["revertOutcome"]["userErrors"] == []
    log = api.data(
        org.auditor,
        """query($a: ID!, $p: Int) { auditLog(first: 10, filter: {agreementId: $a},
           consistentWith: $p) { edges { node { type actorRole reason payload } } } }""",
        a=aid,
        p=reverted["revertOutcome"]["position"],
    )
    events = [e["node"] for e in log["auditLog"]["edges"]]
    outcome = [e for e in events if e["type"] == "OutcomeRecorded"]
    assert outcome[0]["payload"]["kind"] == "MOVED_TO_TARGET_ROLE"
    assert next(e for e in events if e["type"] == "OutcomeReverted")["reason"] == "Too early"


def test_who_sees_which_insights(api: Api) -> None:
    org = Org(api)
    s = org.s
    for team in ("qa", "web", "data"):
        for i in range(2):
            org.active(team, i)
    org.active("ops", 0)  # ops: 1 of 2 people (its manager and one report)
    everything = org.insights(org.hr)
    assert "errors" not in everything, everything
    ins = everything["data"]["insights"]
    assert ins["minimumGroupSize"] == 2
    rows = _rows(ins["participation"])
    assert (rows[f"qa-{s}"]["count"], rows[f"qa-{s}"]["others"]) == (2, 3)
    assert (rows[f"web-{s}"]["count"], rows[f"web-{s}"]["others"]) == (2, 3)
    # ops (1 of 2) is below the minimum; the total would give it away, so the smallest
    # other team (data, before qa and web by name) is withheld with it.
    assert rows[f"ops-{s}"]["suppressed"] and rows[f"ops-{s}"]["count"] is None
    assert rows[f"data-{s}"]["suppressed"] and rows[f"data-{s}"]["count"] is None
    assert ins["participation"]["suppressedRows"] == 2
    assert ins["participation"]["total"] == {"count": 7, "others": 10}
    assert ins["fairnessRefusalsRecorded"] is False
    # Every one of the 7 names "research": 7 of 7 would tell each goal, so it is withheld.
    assert ins["skillsTargeted"] == {
        "rows": [{"group": "Other skills", "count": None}],
        "total": None,
    }
    assert ins["participationByMonth"][-1]["table"]["rows"]
    # The month running: today's development time (2 of qa's 5 at 4 of their 200 hours),
    # and reviews, where nobody is overdue yet: "0 of 2" is withheld like "1 of 2".
    (month,) = ins["developmentTimeByMonth"]
    this_month = _rows(month["table"])
    assert this_month[f"qa-{s}"] == {
        "group": f"qa-{s}",
        "suppressed": False,
        "count": 2,
        "others": 3,
        "value": 4.0,
    }
    assert this_month[f"ops-{s}"]["suppressed"] and this_month[f"ops-{s}"]["value"] is None
    assert month["table"]["total"] == {"count": 7, "others": 10, "value": 4.1}
    (reviews,) = ins["reviewsByMonth"]
    assert reviews["month"] == month["month"] == ins["participationByMonth"][-1]["month"]
    assert all(r["suppressed"] for r in reviews["table"]["rows"])
    assert reviews["table"]["total"] is None
    assert org.insights(org.auditor)["data"]["insights"] == ins

    qa = org.insights(org.manager("qa"))["data"]["insights"]
    assert [r["group"] for r in qa["participation"]["rows"]] == [f"qa-{s}"]
    assert qa["participation"]["total"] is None
    assert qa["outcomesByTargetRole"]["rows"] == []
    assert qa["skillsTargeted"]["rows"] == []
    (qa_month,) = qa["developmentTimeByMonth"]
    assert [r["group"] for r in qa_month["table"]["rows"]] == [f"qa-{s}"]
    assert qa_month["table"]["rows"][0]["value"] == 4.0 and qa_month["table"]["total"] is None
    assert [r["group"] for r in qa["reviewsByMonth"][0]["table"]["rows"]] == [f"qa-{s}"]
    ops = org.insights(org.manager("ops"))["data"]["insights"]
    (only,) = ops["participation"]["rows"]
    assert only["group"] == f"ops-{s}" and only["suppressed"] and only["count"] is None
    assert ops["developmentTime"]["rows"][0]["value"] is None
    (ops_month,) = ops["developmentTimeByMonth"][0]["table"]["rows"]
    assert ops_month["group"] == f"ops-{s}" and ops_month["suppressed"]
    assert ops_month["count"] is None and ops_month["value"] is None

    for token in (api.token(f"qa-3-{s}", Role.EMPLOYEE), org.integration):
        body = org.insights(token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert body.get("data") is None


OUTCOMES_BY_MONTH = """query($p: Int) { insights(consistentWith: $p) {
  outcomesByTeam { rows { group suppressed count others } total { count others } }
  outcomesByMonth { month table { counts rows { group suppressed count others value }
    total { count others } suppressedRows } } } }"""


def test_outcomes_by_month_for_hr_and_for_managers_only_their_released_rows(api: Api) -> None:
    """qa and web: 2 of 4 moved or promoted this month, ops: 1 of 1 (below the minimum,
    2). ops is withheld in both tables, qa with it (its complement); web is shown, and
    the month's total. A manager sees their team's row as released, no total."""
    org = Org(api)
    s = org.s
    kinds = ["PROMOTED_IN_PLACE", "MOVED_TO_TARGET_ROLE", "STOPPED", "STOPPED"]
    position = 0
    for team, size in (("qa", 4), ("web", 4), ("ops", 1)):
        manager = org.manager(team)
        for i in range(size):
            aid = org.active(team, i)
            api.data(manager, COMPLETE, input={"agreementId": aid})
            recorded = api.data(
                manager,
                RECORD,
                input={"agreementId": aid, "kind": kinds[i], "reason": "Other plans"},
            )["recordOutcome"]
            assert recorded["userErrors"] == [], recorded
            position = recorded["position"]

    def read(token: str) -> dict[str, Any]:
        body = api.gql(token, OUTCOMES_BY_MONTH, p=position)
        assert "errors" not in body, body
        return dict(body["data"]["insights"])

    everything = read(org.hr)
    by_team = _rows(everything["outcomesByTeam"])
    assert by_team[f"web-{s}"]["count"] == 2 and by_team[f"ops-{s}"]["suppressed"]
    month = everything["outcomesByMonth"][-1]
    table = month["table"]
    assert table["counts"].startswith("people whose latest outcome")
    rows = _rows(table)
    assert set(rows) == {f"qa-{s}", f"web-{s}", f"ops-{s}"}
    assert rows[f"web-{s}"] == {
        "group": f"web-{s}",
        "suppressed": False,
        "count": 2,
        "others": 2,
        "value": None,
    }
    # ops alone would be the month's total minus web; and qa would then be its row in
    # outcomesByTeam (also withheld there) minus nothing: both withheld.
    assert rows[f"ops-{s}"]["suppressed"] and rows[f"ops-{s}"]["count"] is None
    assert rows[f"qa-{s}"]["suppressed"] and rows[f"qa-{s}"]["count"] is None
    assert table["total"] == {"count": 5, "others": 4} and table["suppressedRows"] == 2
    assert read(org.auditor) == everything

    for team in ("qa", "web", "ops"):
        mine = read(org.manager(team))["outcomesByMonth"][-1]["table"]
        assert [r["group"] for r in mine["rows"]] == [f"{team}-{s}"]
        assert mine["rows"] == [rows[f"{team}-{s}"]]  # exactly as released, withheld or not
        assert mine["total"] is None
    for token in (api.token(f"qa-3-{s}", Role.EMPLOYEE), org.integration):
        refused = api.gql(token, OUTCOMES_BY_MONTH, p=position)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def _computations(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The instants every table was read and released at from now on (each
    computation's `now`), with the kept answers' clock standing still."""
    from api import ports
    from infra import kept_insights

    computed: list[datetime] = []
    read_precomputed = ports.read_precomputed

    def counted(conn: Any, rm: Any, minimum: int, now: datetime, *more: Any) -> Any:
        computed.append(now)
        return read_precomputed(conn, rm, minimum, now, *more)

    monkeypatch.setattr(ports, "read_precomputed", counted)
    monkeypatch.setattr(kept_insights, "monotonic", lambda: 0.0)
    return computed


def test_the_released_tables_are_kept_until_the_read_models_change(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading and releasing every table is computed once while nothing changes, and
    again as soon as a recorded change reaches the read models (infra.kept_insights)."""
    # Time stands still: an answer is kept however slowly this runs (the expiry with
    # the key cache is tests/unit/test_kept_insights.py's).
    computed = _computations(monkeypatch)
    org = Org(api)
    s = org.s
    aid = org.active("qa", 0)
    for team in ("qa", "web", "data"):
        for i in range(2 if team != "qa" else 1):
            org.active(team, i + (team == "qa"))
    org.active("ops", 0)
    first = org.insights(org.hr)["data"]["insights"]
    assert (_rows(first["participation"])[f"qa-{s}"]["count"], len(computed)) == (2, 1)
    instants = [api.data(org.hr, "{ insights { asOf } }")["insights"]["asOf"] for _ in range(2)]
    again = org.insights(org.hr)["data"]["insights"]
    assert again == first and len(computed) == 1
    # `asOf` is each request's own instant, not the kept answer's.
    assert instants[0] < instants[1]
    # A manager's rows are cut from the same kept answer.
    mine = org.insights(org.manager("qa"))["data"]["insights"]
    assert [r["group"] for r in mine["participation"]["rows"]] == [f"qa-{s}"]
    assert len(computed) == 1
    # An agreement approved: the next request computes again and shows it.
    org.active("qa", 2)
    changed = org.insights(org.hr)["data"]["insights"]
    assert len(computed) == 2
    assert _rows(changed["participation"])[f"qa-{s}"]["count"] == 3
    # An outcome recorded: the same.
    manager = org.manager("qa")
    api.data(manager, COMPLETE, input={"agreementId": aid})
    api.data(manager, RECORD, input={"agreementId": aid, "kind": "MOVED_TO_TARGET_ROLE"})
    after = org.insights(org.hr)["data"]["insights"]
    assert len(computed) == 3
    assert after["outcomesByTeam"] != changed["outcomesByTeam"]
    assert _rows(after["participation"])[f"qa-{s}"]["count"] == 2


def test_an_answer_stands_in_while_the_tables_are_refreshed_behind_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without consistentWith, a request after a change is answered at once from the
    answer computed moments before, while a refresh runs behind it (infra.kept_insights);
    the change shows in a later request, computed once more, not for every request."""
    # Time stands still: the kept answer was computed moments ago, whatever the pace.
    computed = _computations(monkeypatch)
    org = Org(api)
    s = org.s
    for team in ("qa", "web", "data"):
        for i in range(2):
            org.active(team, i)
    org.active("ops", 0)

    def qa(body: dict[str, Any]) -> int:
        return int(_rows(body["data"]["insights"]["participation"])[f"qa-{s}"]["count"])

    def answers(how: str) -> float:
        return REGISTRY.get_sample_value("crafting_insights_answers_total", {"how": how}) or 0.0

    before = {how: answers(how) for how in ("kept", "behind", "computed")}
    assert qa(org.insights(org.hr)) == 2 and len(computed) == 1
    assert qa(org.insights(org.hr)) == 2 and len(computed) == 1
    org.active("qa", 2)
    # The read models have the approval (waited for on another query).
    seen = "query($p: Int, $id: ID!) { person(id: $id, consistentWith: $p) { id } }"
    api.data(org.hr, seen, p=api.position(), id=f"hr-{s}")
    assert qa(api.gql(org.hr, INSIGHTS)) == 2  # at once, from the kept answer
    deadline = time.monotonic() + 30
    while qa(api.gql(org.hr, INSIGHTS)) != 3:
        assert time.monotonic() < deadline, "the refresh never landed"
        time.sleep(0.05)
    assert len(computed) == 2
    # /metrics says how they were answered: once computed for a request, then from
    # the kept answer, current or behind (the refresh is not a request's answer).
    assert answers("computed") - before["computed"] == 1
    assert answers("kept") - before["kept"] >= 2
    assert answers("behind") - before["behind"] >= 1
