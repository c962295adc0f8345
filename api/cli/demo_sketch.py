"""The demo story's crafting sketch: the tester's week before and after crafting, the
relationships they want and the purpose they see, sized so the time moved into
development is their development hours of their contracted week."""

from __future__ import annotations

from domain.agreement import Agreement
from domain.sketch import (
    CraftedBlock,
    Energy,
    Relationship,
    RelationshipKind,
    Sketch,
    TaskBlock,
)

D, N, E = Energy.DRAINING, Energy.NEUTRAL, Energy.ENERGISING


def _half(percent: float) -> float:
    """To the half percent, as a person sizes their week."""
    return round(percent * 2) / 2


def story_sketch(agreement: Agreement, contracted_hours: float) -> Sketch:
    """The sketch of the story's agreement (its adjustments and reallocation linked)."""
    by_words = {a.description: a.id for a in agreement.adjustments.values()}
    brief, roadmap, research = (
        by_words["Write one feature brief"],
        by_words["Sit in roadmap meetings"],
        by_words["Two hours a week of customer research"],
    )
    (triage,) = (r.id for r in agreement.reallocations.values())
    week = 100 / contracted_hours
    development = _half(agreement.development_hours() * week)
    one_hour = _half(week)
    return Sketch(
        before=(
            TaskBlock("testing", "Regression testing", 45, D),
            TaskBlock("triage", "Regression triage", 15, D),
            TaskBlock("automation", "Test automation", 20, N),
            TaskBlock("ceremonies", "Team ceremonies", 20, N),
        ),
        after=(
            CraftedBlock("testing-after", "Regression testing", 50 - development, D, "testing"),
            CraftedBlock(
                "triage-after", "Regression triage", 10, D, "triage", reallocation_id=triage
            ),
            CraftedBlock("automation-after", "Test automation", 20, E, "automation"),
            CraftedBlock("ceremonies-after", "Team ceremonies", 20, N, "ceremonies"),
            CraftedBlock(
                "research",
                "Customer research",
                development - 2 * one_hour,
                E,
                adjustment_id=research,
                skill="customer research",
            ),
            CraftedBlock(
                "briefs",
                "Feature briefs",
                one_hour,
                E,
                adjustment_id=brief,
                skill="product writing",
            ),
            CraftedBlock(
                "roadmap",
                "Roadmap meetings",
                one_hour,
                N,
                adjustment_id=roadmap,
                skill="roadmapping",
            ),
        ),
        relationships=(
            Relationship(
                "pm-mentor",
                RelationshipKind.MENTOR,
                name="The product manager for bulk export",
                note="Monthly: how a roadmap decision is made",
            ),
            Relationship(
                "interviews",
                RelationshipKind.SHADOWING,
                person_id="noah-kim",
                note="Two customer interviews with design",
            ),
            Relationship(
                "sponsor",
                RelationshipKind.STAKEHOLDER,
                person_id="mgr-qa",
                note="Agrees the research hours each sprint",
            ),
        ),
        purpose=(
            "Testing is how customers come to trust our releases. I want to bring what I "
            "learn from them into what we decide to build, not only into what we check."
        ),
    )
