"""`crafting demo`: a realistic sample organisation, starting with the seed's story of a
software tester growing toward product management."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID, uuid4

from api.cli.demo_sketch import story_sketch
from domain.access import Actor
from domain.agreement import Agreement
from domain.application import CraftingApplication, Request
from domain.application import commands as c
from domain.errors import DomainError
from domain.person import Profile
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Guardrails, Role

HR = "hr-demo"
STORY_EMPLOYEE, STORY_MANAGER = "sam-tester", "mgr-qa"
TEAMS = {
    "qa": ("mgr-qa", "Priya Raman", ["Sam Tester", "Lena Okafor", "Diego Alves", "Mia Chen"]),
    "platform": (
        "mgr-platform",
        "Tom Berg",
        ["Ava Novak", "Kofi Mensah", "Ines Duarte", "Yuki Sato", "Omar Haddad"],
    ),
    "design": ("mgr-design", "Clara Weiss", ["Noah Kim", "Sofia Rossi", "Ben Carter"]),
    "support": (
        "mgr-support",
        "Raj Patel",
        ["Emma Laurent", "Jonas Meyer", "Aisha Bello", "Liam Walsh"],
    ),
}
GOALS = [
    ("Product manager", ["customer research", "roadmapping", "product writing"]),
    ("Engineering manager", ["coaching", "hiring", "planning"]),
    ("Staff engineer", ["system design", "mentoring", "technical writing"]),
    ("UX researcher", ["interviewing", "synthesis", "usability testing"]),
    ("Solutions architect", ["presenting", "integration design", "pre-sales"]),
]
IDEAS = [
    (AdjustmentKind.TASK, "Lead the sprint demo every other week", 1.0),
    (AdjustmentKind.RELATIONAL, "Shadow a senior colleague in planning meetings", 1.0),
    (AdjustmentKind.COGNITIVE, "Frame routine work in terms of customer outcomes", 0.0),
    (AdjustmentKind.RESOURCE, "Block two hours a week for a stretch project", 2.0),
    (AdjustmentKind.TASK, "Write the design doc for the next feature", 1.5),
    (AdjustmentKind.RELATIONAL, "Monthly mentoring session with a staff engineer", 0.5),
]
CHORES = [
    "Regression triage",
    "On-call handover notes",
    "Weekly metrics report",
    "Ticket grooming",
    "Release checklist",
]


def _id(name: str) -> str:
    return name.lower().replace(" ", "-")


def load_demo(app: CraftingApplication, say: Callable[[str], None] = print) -> int:
    """Load the sample organisation; returns the number of agreements created."""
    if app.find_person(HR) is not None:
        say("The demo organisation is already loaded.")
        return 0
    rng = random.Random(20261124)  # noqa: S311 - reproducible sample data, not secrets
    hr = Request(Actor(HR, frozenset({Role.HR})), str(uuid4()))
    people = [
        c.DirectoryEntry(
            HR, Profile("Hana Rivera", "hana.rivera@example.com", None, "people", 40, True)
        )
    ]
    for team, (manager, manager_name, members) in TEAMS.items():
        people.append(
            c.DirectoryEntry(
                manager,
                Profile(manager_name, f"{_id(manager_name)}@example.com", None, team, 40, True),
            )
        )
        people += [
            c.DirectoryEntry(
                _id(m),
                Profile(m, f"{_id(m)}@example.com", manager, team, rng.choice([32.0, 40.0]), True),
            )
            for m in members
        ]
    app.execute(hr, c.UpsertPeople(people=people))
    created = _seed_story(app)
    for team, (manager, _, members) in TEAMS.items():
        for member in members:
            if _id(member) == STORY_EMPLOYEE:
                continue  # the story's tester grows toward product management only
            for _ in range(rng.randint(2, 3)):
                created += _random_agreement(app, rng, _id(member), manager, team, members)
    say(
        f"Loaded {len(people)} people and {created} agreements. Try: "
        f"crafting token --sub {HR} --role HR"
    )
    return created


def _run(app: CraftingApplication, actor_id: str, role: Role, command: c.Command) -> UUID:
    roles = frozenset({role, Role.EMPLOYEE})
    result = app.execute(Request(Actor(actor_id, roles), str(uuid4())), command)
    assert result.agreement is not None
    return result.agreement.id


def _seed_story(app: CraftingApplication) -> int:
    """The tester who wants product management (the seed's scenario): the first step
    approved, reallocated, evidenced and reviewed, and the next one proposed."""
    sam, manager = STORY_EMPLOYEE, STORY_MANAGER
    aid = _run(
        app,
        sam,
        Role.EMPLOYEE,
        c.ProposeAgreement(
            title="From testing toward product management",
            career_goal=CareerGoal(
                "Product manager",
                ("customer research", "roadmapping", "product writing"),
                date.today() + timedelta(days=270),
            ),
            adjustments=[
                AdjustmentDraft(AdjustmentKind.TASK, "Write one feature brief", 1.0),
                AdjustmentDraft(AdjustmentKind.RELATIONAL, "Sit in roadmap meetings", 1.0),
            ],
        ),
    )
    approve = c.ApproveAgreement(
        agreement_id=aid, guardrails=Guardrails(4.0, ("Release sign-off",), 14)
    )
    _run(app, manager, Role.MANAGER, approve)
    _run(
        app,
        manager,
        Role.MANAGER,
        c.AddAdjustment(
            agreement_id=aid,
            adjustment=AdjustmentDraft(
                AdjustmentKind.RESOURCE, "Two hours a week of customer research", 2.0
            ),
        ),
    )
    _run(
        app,
        manager,
        Role.MANAGER,
        c.ReallocateTask(
            agreement_id=aid,
            task="Regression triage",
            hours_per_week=2.0,
            to_person_id="lena-okafor",
            reason="Frees Sam's two hours of customer research",
        ),
    )
    _run(
        app,
        sam,
        Role.EMPLOYEE,
        c.RecordArtifact(
            agreement_id=aid,
            title="Feature brief: bulk export",
            kind="BRIEF",
            url="https://wiki.example.com/briefs/bulk-export",
            skills=["product writing"],
        ),
    )
    _run(
        app,
        sam,
        Role.EMPLOYEE,
        c.RecordArtifact(
            agreement_id=aid,
            title="Customer research findings, sprint review",
            kind="PRESENTATION",
            skills=["customer research", "presenting"],
        ),
    )
    # The Job Crafting Exercise: the week before and after, drawn by Sam.
    story: Agreement = app.repository.get(aid)
    person = app.find_person(sam)
    assert person is not None
    sketch = story_sketch(story, person.profile.contracted_hours_per_week)
    _run(app, sam, Role.EMPLOYEE, c.SetSketch(agreement_id=aid, sketch=sketch))
    _run(
        app,
        manager,
        Role.MANAGER,
        c.RecordReview(
            agreement_id=aid,
            outcome="ON_TRACK",
            notes="Findings landed well at the sprint review; keep the research hours.",
        ),
    )
    # The next step, awaiting the manager: whoever opens the demo as the manager has a
    # proposal in their inbox to approve (or to ask changes of).
    _run(
        app,
        sam,
        Role.EMPLOYEE,
        c.ProposeAgreement(
            title="Own the discovery for bulk export v2",
            career_goal=CareerGoal(
                "Product manager", ("customer research", "roadmapping", "product writing")
            ),
            adjustments=[
                AdjustmentDraft(AdjustmentKind.TASK, "Interview five customers who export", 2.0),
                AdjustmentDraft(
                    AdjustmentKind.RELATIONAL, "Pair with the product manager on the roadmap", 1.0
                ),
            ],
        ),
    )
    return 2


def _random_agreement(
    app: CraftingApplication,
    rng: random.Random,
    employee: str,
    manager: str,
    team: str,
    members: list[str],
) -> int:
    role, skills = rng.choice(GOALS)
    ideas = rng.sample(IDEAS, rng.randint(1, 3))
    try:
        aid = _run(
            app,
            employee,
            Role.EMPLOYEE,
            c.ProposeAgreement(
                title=f"Growing toward {role.lower()}",
                career_goal=CareerGoal(role, tuple(skills)),
                adjustments=[AdjustmentDraft(k, d, h) for k, d, h in ideas],
            ),
        )
        stage = rng.choices(
            ["proposed", "changes", "rejected", "withdrawn", "active", "paused", "completed"],
            [2, 1, 1, 1, 6, 1, 2],
        )[0]
        m = manager
        if stage == "changes":
            _run(
                app,
                m,
                Role.MANAGER,
                c.RequestChanges(agreement_id=aid, reason="Let's narrow the first step"),
            )
        elif stage == "rejected":
            _run(
                app, m, Role.MANAGER, c.RejectAgreement(agreement_id=aid, reason="Not this quarter")
            )
        elif stage == "withdrawn":
            _run(
                app,
                employee,
                Role.EMPLOYEE,
                c.WithdrawAgreement(agreement_id=aid, reason="Moving to another team"),
            )
        elif stage != "proposed":
            _activate(app, rng, aid, m, employee, members, stage)
    except DomainError:
        return 0  # e.g. a teammate already receives the most they may: skip this one
    return 1


def _activate(
    app: CraftingApplication,
    rng: random.Random,
    aid: UUID,
    m: str,
    employee: str,
    members: list[str],
    stage: str,
) -> None:
    _run(
        app,
        m,
        Role.MANAGER,
        c.ApproveAgreement(
            agreement_id=aid, guardrails=Guardrails(6.0, ("Production on-call",), 14)
        ),
    )
    mates = [_id(x) for x in members if _id(x) != employee]
    if rng.random() < 0.6:
        moved = _run(
            app,
            m,
            Role.MANAGER,
            c.ReallocateTask(
                agreement_id=aid,
                task=rng.choice(CHORES),
                hours_per_week=1.0,
                to_person_id=rng.choice(mates),
                reason="Make room for growth work",
            ),
        )
        agreement: Agreement = app.repository.get(moved)
        if rng.random() < 0.3:
            change = next(iter(agreement.reallocations.values())).change_id
            _run(
                app,
                m,
                Role.MANAGER,
                c.RevertChange(
                    agreement_id=aid, change_id=change, reason="The teammate is overloaded"
                ),
            )
    _run(
        app,
        m,
        Role.MANAGER,
        c.RecordReview(
            agreement_id=aid,
            outcome=rng.choice(["ON_TRACK", "NEEDS_ADJUSTMENT", "AT_RISK"]),
            held_on=date.today() - timedelta(days=rng.randint(0, 20)),
        ),
    )
    _run(
        app,
        employee,
        Role.EMPLOYEE,
        c.RecordArtifact(
            agreement_id=aid,
            title="Write-up of what I learned",
            kind="DOCUMENTATION",
            skills=["technical writing"],
        ),
    )
    if stage == "paused":
        _run(app, m, Role.MANAGER, c.PauseAgreement(agreement_id=aid, reason="Release crunch"))
    elif stage == "completed":
        _run(app, m, Role.MANAGER, c.RecordReview(agreement_id=aid, outcome="READY_TO_COMPLETE"))
        _run(app, m, Role.MANAGER, c.CompleteAgreement(agreement_id=aid))
