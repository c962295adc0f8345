"""The proposal form (proposing and revising): its fields named as the domain names
them (`title`, `careerGoal.targetRole`, `adjustments[1].hoursPerWeek`, …), so a rule
violation lands next to its field without a translation table; read into the
command's values, and filled from an agreement's rows for a revision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from api.read_side import Row
from api.web.checks import Checked, adjustment_label
from api.web.forms import Submitted
from domain import values as v
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal

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


LABELS = {
    "title": "Title",
    "employeeId": "Employee id",
    "careerGoal.targetRole": "Target role",
    "careerGoal.skills": "Skills to build",
    "careerGoal.targetDate": "Target date",
}


def label(field: str) -> str | None:
    """The label the form shows for a field (`adjustments[2].hoursPerWeek`: "Adjustment
    3: hours per week", the form's row)."""
    name = _LIST_ITEM.sub("", field)
    return LABELS.get(name) or adjustment_label(name)


def _row(check: Checked, form: Submitted, i: int) -> AdjustmentDraft:
    """One adjustment row, each field checked (mistakes kept in `check`)."""
    f = {n: row_field(i, n) for n in ADJUSTMENT}
    kind = check.check(f["kind"], lambda: v.choice(AdjustmentKind, form.get(f["kind"]), f["kind"]))
    description = check.check(
        f["description"],
        lambda: v.text(form.get(f["description"]), f["description"], max_length=2000),
    )
    hours = check.number(f["hoursPerWeek"])
    if hours is not None:
        given = hours
        hours = check.check(
            f["hoursPerWeek"], lambda: v.hours(given, f["hoursPerWeek"], maximum=40)
        )
    starts = check.day(f["startsOn"])
    ends = check.day(f["endsOn"])
    check.check(f["startsOn"], lambda: v.optional_day(starts, f["startsOn"]))
    check.check(f["endsOn"], lambda: v.optional_day(ends, f["endsOn"]))
    check.check(f["endsOn"], lambda: v.date_range(starts, ends, f["endsOn"]))
    return AdjustmentDraft(kind or AdjustmentKind.TASK, description or "", hours or 0, starts, ends)


def read_proposal(form: Submitted, for_others: bool = False) -> ProposalInput:
    """The proposal as submitted, every field checked by the domain's own rules so that
    all mistakes are told at once, in the form's order (FormErrors); the command judges
    it again, with the rules that span fields. A row left entirely blank is no
    adjustment."""
    check = Checked(form, label)
    if for_others and form.text("employeeId"):
        check.check("employeeId", lambda: v.person_id(form.get("employeeId"), "employeeId"))
    title = check.check("title", lambda: v.text(form.get("title"), "title", max_length=200))
    role = check.check(
        "careerGoal.targetRole",
        lambda: v.text(form.get("careerGoal.targetRole"), "careerGoal.targetRole", max_length=200),
    )
    skills = check.check(
        "careerGoal.skills", lambda: v.skills(form.words("careerGoal.skills"), "careerGoal.skills")
    )
    target = check.day("careerGoal.targetDate")
    check.check("careerGoal.targetDate", lambda: v.optional_day(target, "careerGoal.targetDate"))
    drafts: list[AdjustmentDraft] = []
    row_of: list[int] = []
    for i in range(row_count(form)):
        if any(form.text(row_field(i, n)) for n in ADJUSTMENT if n != "kind"):
            drafts.append(_row(check, form, i))
            row_of.append(i)
    check.done()
    goal = CareerGoal(target_role=role or "", skills=skills or (), target_date=target)
    return ProposalInput(title or "", goal, drafts, row_of)


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
