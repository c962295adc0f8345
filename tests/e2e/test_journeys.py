"""Each kind of user walks the service through HTTP, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.world import World

AGREEMENT = """fragment A on Agreement { id agreementId version status title employeeId
  approvedByManagerId developmentHoursPerWeek nextReviewOn createdAt updatedAt
  careerGoal { targetRole skills targetDate }
  guardrails { maxDevelopmentHoursPerWeek protectedResponsibilities reviewEveryDays endsOn }
  adjustments { id changeId kind description hoursPerWeek startsOn endsOn status }
  reallocations { id changeId task hoursPerWeek fromPersonId toPersonId effectiveOn reason status }
  reviews { id heldOn outcome notes nextReviewOn heldBy } latestReview { outcome }
  artifacts { id title kind url skills recordedBy recordedOn agreementId }
  changes { changeId kind subjectId rootChangeId version revertsChangeId revertedByChangeId
            inEffect }
  employee { personId displayName manager { personId } } }"""


def mutate(api: Api, token: str, name: str, input_type: str, **fields: Any) -> dict[str, Any]:
    """Run a mutation; its payload (asserting no user errors)."""
    query = (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ "
        "agreement { ...A } position replayed userErrors { field message code } } }" + AGREEMENT
    )
    payload: dict[str, Any] = api.data(token, query, input=fields)[name]
    assert payload["userErrors"] == [], payload
    assert isinstance(payload["position"], int)
    return payload


def test_employee_and_manager_walk_an_agreement_through_its_life(api: Api) -> None:
    w = World(api)
    i = w.ids
    aid = w.propose()["id"]
    mutate(
        api,
        w.manager,
        "requestChanges",
        "AgreementCommandInput",
        agreementId=aid,
        reason="Start smaller",
    )
    revised = mutate(
        api,
        w.employee,
        "reviseProposal",
        "ReviseProposalInput",
        agreementId=aid,
        title="Tester to PM, step one",
        careerGoal={
            "targetRole": "Product manager",
            "skills": ["research"],
            "targetDate": "2027-06-30",
        },
        adjustments=[
            {"kind": "RELATIONAL", "description": "Sit in roadmap meetings", "hoursPerWeek": 1}
        ],
    )["agreement"]
    assert revised["status"] == "PROPOSED"
    assert revised["careerGoal"]["targetDate"] == "2027-06-30"
    approved = mutate(
        api,
        w.manager,
        "approveAgreement",
        "ApproveAgreementInput",
        agreementId=aid,
        expectedVersion=revised["version"],
        guardrails={
            "maxDevelopmentHoursPerWeek": 4,
            "reviewEveryDays": 14,
            "protectedResponsibilities": ["Release sign-off"],
        },
    )
    assert approved["agreement"]["status"] == "ACTIVE"
    assert approved["agreement"]["approvedByManagerId"] == i["mgr"]
    added = mutate(
        api,
        w.manager,
        "addAdjustment",
        "AddAdjustmentInput",
        agreementId=aid,
        adjustment={
            "kind": "TASK",
            "description": "Two hours of customer research",
            "hoursPerWeek": 2,
            "startsOn": "2026-12-01",
        },
    )["agreement"]
    assert added["developmentHoursPerWeek"] == 3
    moved = mutate(
        api,
        w.manager,
        "reallocateTask",
        "ReallocateTaskInput",
        agreementId=aid,
        task="Smoke tests",
        hoursPerWeek=2,
        toPersonId=i["mate"],
        reason="Frees time for research",
    )["agreement"]
    assert moved["reallocations"][0]["fromPersonId"] == i["emp"]
    mutate(
        api,
        w.manager,
        "recordReview",
        "RecordReviewInput",
        agreementId=aid,
        outcome="ON_TRACK",
        notes="Brief drafted",
    )
    mutate(
        api,
        w.employee,
        "recordArtifact",
        "RecordArtifactInput",
        agreementId=aid,
        title="Feature brief",
        kind="BRIEF",
        url="https://wiki.example.com/brief",
        skills=["writing", "research"],
    )
    rails = mutate(
        api,
        w.manager,
        "setGuardrails",
        "SetGuardrailsInput",
        agreementId=aid,
        guardrails={"maxDevelopmentHoursPerWeek": 5, "reviewEveryDays": 7},
        reason="More room",
    )["agreement"]
    rail_change = [c for c in rails["changes"] if c["kind"] == "GUARDRAILS_CHANGED"][-1]
    back = mutate(
        api,
        w.manager,
        "revertChange",
        "RevertChangeInput",
        agreementId=aid,
        changeId=rail_change["changeId"],
        reason="Too early",
    )["agreement"]
    assert back["guardrails"]["maxDevelopmentHoursPerWeek"] == 4
    reverted = mutate(
        api,
        w.manager,
        "revertToVersion",
        "RevertToVersionInput",
        agreementId=aid,
        version=approved["agreement"]["version"],
        reason="Start over from the approval",
    )["agreement"]
    assert [a["status"] for a in reverted["adjustments"]] == ["ACTIVE", "REVERTED"]
    assert reverted["reallocations"][0]["status"] == "REVERTED"
    mutate(
        api,
        w.manager,
        "pauseAgreement",
        "AgreementCommandInput",
        agreementId=aid,
        reason="Release crunch",
    )
    mutate(api, w.manager, "resumeAgreement", "AgreementCommandInput", agreementId=aid)
    done = mutate(api, w.manager, "completeAgreement", "AgreementCommandInput", agreementId=aid)
    assert done["agreement"]["status"] == "COMPLETED"

    # the read side, once it has caught up with the last write
    read = api.data(
        w.manager,
        "query($id: ID!, $p: Int) { agreement(id: $id, consistentWith: $p) { ...A } }" + AGREEMENT,
        id=aid,
        p=done["position"],
    )["agreement"]
    assert read == done["agreement"]  # the read model agrees with the write model
    node = api.data(
        w.employee, "query($id: ID!) { node(id: $id) { id ... on Agreement { status } } }", id=aid
    )["node"]
    assert node == {"id": aid, "status": "COMPLETED"}
    evidence = api.data(
        w.employee,
        """query($p: String!) { careerEvidence(personId: $p) {
        person { personId } agreements { id } artifacts { title } skills { skill evidenceCount }
        reviews { outcome } } }""",
        p=i["emp"],
    )["careerEvidence"]
    assert evidence["artifacts"] == [{"title": "Feature brief"}]
    assert {s["skill"] for s in evidence["skills"]} == {"writing", "research"}
    assert evidence["reviews"] == [{"outcome": "ON_TRACK"}]


def test_an_employee_withdraws_and_a_manager_rejects(api: Api) -> None:
    w = World(api)
    first, second = w.propose()["id"], w.propose()["id"]
    withdrawn = mutate(
        api,
        w.employee,
        "withdrawAgreement",
        "AgreementCommandInput",
        agreementId=first,
        reason="Changed my mind",
    )
    rejected = mutate(
        api,
        w.manager,
        "rejectAgreement",
        "AgreementCommandInput",
        agreementId=second,
        reason="Not this quarter",
    )
    assert withdrawn["agreement"]["status"] == "WITHDRAWN"
    assert rejected["agreement"]["status"] == "REJECTED"


def test_a_manager_sees_reviews_due_and_team_workload(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    moved = mutate(
        api,
        w.manager,
        "reallocateTask",
        "ReallocateTaskInput",
        agreementId=aid,
        task="Triage",
        hoursPerWeek=3,
        toPersonId=w.ids["mate"],
        reason="Growth",
    )
    soon = (date.today() + timedelta(days=30)).isoformat()
    due_query = """query($d: Date!, $p: Int) {
      reviewsDue(before: $d, consistentWith: $p) { edges { node { id } } } }"""
    due = api.data(w.manager, due_query, d=soon, p=moved["position"])["reviewsDue"]["edges"]
    assert [e["node"]["id"] for e in due] == [aid]
    none_due = api.data(w.manager, due_query, d="2000-01-01", p=moved["position"])
    assert none_due["reviewsDue"]["edges"] == []
    workload = api.data(
        w.manager,
        """query($t: String!, $p: Int) {
        teamWorkload(teamId: $t, consistentWith: $p) { receivingLimitPerWeek members {
        personId developmentHoursPerWeek hoursReceivedPerWeek hoursGivenPerWeek
        netHoursReceivedPerWeek receivingLimitReached contractedHoursPerWeek } } }""",
        t=w.team,
        p=moved["position"],
    )["teamWorkload"]
    members = {m["personId"]: m for m in workload["members"]}
    assert members[w.ids["emp"]]["developmentHoursPerWeek"] == 2
    assert members[w.ids["emp"]]["hoursGivenPerWeek"] == 3
    assert members[w.ids["mate"]]["hoursReceivedPerWeek"] == 3
    assert not members[w.ids["mate"]]["receivingLimitReached"]
    assert workload["receivingLimitPerWeek"] == 4


def test_an_integration_pages_everything_while_commands_keep_arriving(api: Api) -> None:
    w = World(api)
    for _ in range(5):
        w.propose()
    seen: list[str] = []
    after = None
    feed: list[int] = []
    feed_after = None
    for round_ in range(20):
        page = api.data(
            w.integration,
            """query($a: String, $e: String, $p: Int) { agreements(first: 2, after: $a,
            consistentWith: $p,
            filter: {employeeId: $e}) { edges { cursor node { id } }
            pageInfo { hasNextPage endCursor } } }""",
            a=after,
            e=w.ids["emp"],
            p=api.position(),
        )["agreements"]
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] or after
        changes = api.data(
            w.integration,
            """query($a: String) { changes(after: $a, first: 7) {
            edges { cursor node { position type } } pageInfo { endCursor hasNextPage } } }""",
            a=feed_after,
        )["changes"]
        feed += [e["node"]["position"] for e in changes["edges"]]
        feed_after = changes["pageInfo"]["endCursor"] or feed_after
        if round_ < 6:
            w.propose()  # new work arrives while the integration pages
        if round_ > 8 and not page["pageInfo"]["hasNextPage"]:
            break
    assert len(seen) == len(set(seen)) == 11  # every agreement once, none skipped
    assert feed == sorted(set(feed))  # commit order, nothing twice
    audit = api.data(
        w.auditor, "{ auditLog(first: 100, order: OLDEST_FIRST) { edges { node { position } } } }"
    )["auditLog"]["edges"]
    assert [e["node"]["position"] for e in audit][: len(feed)] == feed


def test_an_auditor_replays_history_and_travels_in_time(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    instant = datetime.now(UTC).isoformat()
    paused = mutate(
        api, w.manager, "pauseAgreement", "AgreementCommandInput", agreementId=aid, reason="Crunch"
    )
    log = api.data(
        w.auditor,
        """query($f: AuditLogFilter, $p: Int) { auditLog(first: 10,
        filter: $f, consistentWith: $p) { edges { node { position version type actorId actorRole
        reason correlationId idempotencyKey recordedAt payload agreementId } } } }""",
        f={"agreementId": aid},
        p=paused["position"],
    )["auditLog"]["edges"]
    assert [e["node"]["type"] for e in log] == ["Paused", "Approved", "Proposed"]
    assert log[0]["node"]["reason"] == "Crunch"
    assert log[0]["node"]["actorRole"] == "MANAGER"
    assert log[2]["node"]["payload"]["careerGoal"]["targetRole"] == "Product manager"
    by_type = api.data(
        w.auditor,
        """query($f: AuditLogFilter) { auditLog(filter: $f) {
        edges { node { type } } } }""",
        f={"agreementId": aid, "types": ["Approved"], "actorId": w.ids["mgr"]},
    )["auditLog"]["edges"]
    assert by_type == [{"node": {"type": "Approved"}}]
    window = api.data(
        w.auditor,
        """query($f: AuditLogFilter) { auditLog(filter: $f) {
        edges { node { type } } } }""",
        f={"agreementId": aid, "from": instant},
    )
    assert [e["node"]["type"] for e in window["auditLog"]["edges"]] == ["Paused"]
    then = api.data(
        w.auditor,
        """query($id: ID!, $at: DateTime) { agreementAt(id: $id, at: $at)
        { status version } v1: agreementAt(id: $id, version: 1) { status version } }""",
        id=aid,
        at=instant,
    )
    assert then["agreementAt"]["status"] == "ACTIVE"
    assert then["v1"] == {"status": "PROPOSED", "version": 1}


def test_repeating_a_mutation_with_its_idempotency_key(api: Api) -> None:
    w = World(api)
    aid = w.active()["id"]
    fields = {"agreementId": aid, "reason": "Crunch", "idempotencyKey": "pause-once"}
    first = mutate(api, w.manager, "pauseAgreement", "AgreementCommandInput", **fields)
    again = mutate(api, w.manager, "pauseAgreement", "AgreementCommandInput", **fields)
    assert again["replayed"] and not first["replayed"]
    assert again["position"] == first["position"]
    assert again["agreement"] == first["agreement"]


def test_read_and_write_models_agree_on_a_proposal_with_many_adjustments(api: Api) -> None:
    w = World(api)
    drafts = [
        {"kind": kind, "description": f"Step {n}", "hoursPerWeek": n / 4}
        for n, kind in enumerate(["TASK", "RELATIONAL", "COGNITIVE", "RESOURCE"] * 2)
    ]
    proposed = mutate(
        api,
        w.employee,
        "proposeAgreement",
        "ProposeAgreementInput",
        title="Many steps",
        careerGoal={"targetRole": "PM"},
        adjustments=drafts,
    )
    read = api.data(
        w.employee,
        "query($id: ID!, $p: Int) { agreement(id: $id, consistentWith: $p) { ...A } }" + AGREEMENT,
        id=proposed["agreement"]["id"],
        p=proposed["position"],
    )["agreement"]
    assert read == proposed["agreement"]
    assert [a["description"] for a in read["adjustments"]] == [f"Step {n}" for n in range(8)]
