"""The proposal form (proposing and revising): its fields named as the domain names
them (`title`, `careerGoal.targetRole`, `adjustments[1].hoursPerWeek`, …), so a rule
violation lands next to its field without a translation table; read into the
command's values, and filled from an agreement's rows for a revision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from api.web.forms import Submitted
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, choice
from projections.rows import Row

MOST_ROWS = 20  # adjustment rows a form shows; more is not a job-crafting plan
GOAL = ("careerGoal.targetRole", "careerGoal.skills", "careerGoal.targetDate")
ADJUSTMENT = ("kind", "description", "hoursPerWeek", "startsOn", "endsOn")
_ROW = re.compile(r"^adjustments\[(\d{1,2})\]\.")
_LIST_ITEM = re.compile(r"\[\d+\]$")  # `careerGoal.skills[3]`: the skills field


def row_field(index: int, name: str) -> str:
    return f"adjustments[{index}].{name}"


def row_count(form: Submitted) -> int:
    """How many adjustment rows the submitted form had (at least one)."""
    indexes = [int(m.group(1)) for m in map(_ROW.match, form.values) if m]
    return min(MOST_ROWS, max(indexes, default=0) + 1)


def fields(rows: int) -> set[str]:
    """The names of the form's fields with `rows` adjustment rows."""
    names = {"title", "employeeId", *GOAL}
    return names | {row_field(i, n) for i in range(rows) for n in ADJUSTMENT}


@dataclass(frozen=True)
class ProposalInput:
    title: str
    career_goal: CareerGoal
    adjustments: list[AdjustmentDraft]
    row_of: list[int]  # the form row of each adjustment (blank rows are left out)

    def field(self, domain_field: str | None, shown: set[str]) -> str:
        """Where to show an error the domain names `domain_field`: its form field (the
        row it came from), or the form as a whole."""
        if domain_field is None:
            return "form"
        name = _LIST_ITEM.sub("", domain_field)
        found = _ROW.match(name)
        if found and int(found.group(1)) < len(self.row_of):
            name = row_field(self.row_of[int(found.group(1))], name[found.end() :])
        return name if name in shown else "form"


def read_proposal(form: Submitted) -> ProposalInput:
    """The proposal as submitted (FieldError for a value that is not a number or a
    date; the domain judges the rest). A row left entirely blank is no adjustment."""
    drafts: list[AdjustmentDraft] = []
    row_of: list[int] = []
    for i in range(row_count(form)):
        if not any(form.text(row_field(i, n)) for n in ADJUSTMENT if n != "kind"):
            continue
        drafts.append(
            AdjustmentDraft(
                kind=choice(AdjustmentKind, form.get(row_field(i, "kind")), row_field(i, "kind")),
                description=form.get(row_field(i, "description")),
                hours_per_week=form.number(row_field(i, "hoursPerWeek"), "Hours per week"),
                starts_on=form.day(row_field(i, "startsOn"), "Start date"),
                ends_on=form.day(row_field(i, "endsOn"), "End date"),
            )
        )
        row_of.append(i)
    goal = CareerGoal(
        target_role=form.get("careerGoal.targetRole"),
        skills=tuple(form.words("careerGoal.skills")),
        target_date=form.day("careerGoal.targetDate", "Target date"),
    )
    return ProposalInput(form.get("title"), goal, drafts, row_of)


def values_of(agreement: Row, adjustments: list[Row]) -> dict[str, Any]:
    """The form's values for revising this proposal as it stands."""
    values: dict[str, Any] = {
        "title": agreement["title"],
        "careerGoal.targetRole": agreement["target_role"],
        "careerGoal.skills": ", ".join(agreement["skills"]),
        "careerGoal.targetDate": agreement["target_date"] or "",
    }
    for i, row in enumerate(adjustments):
        values |= {
            row_field(i, "kind"): row["kind"],
            row_field(i, "description"): row["description"],
            row_field(i, "hoursPerWeek"): f"{row['hours_per_week']:g}",
            row_field(i, "startsOn"): row["starts_on"] or "",
            row_field(i, "endsOn"): row["ends_on"] or "",
        }
    return values
