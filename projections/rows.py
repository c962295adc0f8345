"""The row contract: how an agreement and its parts look on the read side.

One row shape per kind, written here once: the projector stores these rows in the read
model's tables (`projections.tables`, one column per key), mutation payloads and time
travel build the same rows from the write model (`agreement_row`), and the GraphQL
types read them by key with one default resolver. A new field is a new key here, a
column in `tables`, and an annotation on its GraphQL type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from domain.agreement import Agreement
from domain.person import Person, Profile, Provisioning
from domain.records import Adjustment, Artifact, Change, Reallocation, Review
from domain.values import CareerGoal
from projections.payload import camel_json

Row = dict[str, Any]


def goal_columns(title: str, goal: CareerGoal) -> Row:
    """The agreement's content: its title and career goal."""
    return {
        "title": title,
        "target_role": goal.target_role,
        "skills": list(goal.skills),
        "target_date": goal.target_date,
    }


def adjustment_row(agreement_id: str, item: Adjustment) -> Row:
    """An adjustment of an agreement."""
    return {
        "adjustment_id": item.id,
        "agreement_id": agreement_id,
        "change_id": item.change_id,
        "kind": str(item.kind),
        "description": item.description,
        "hours_per_week": item.hours_per_week,
        "starts_on": item.starts_on,
        "ends_on": item.ends_on,
        "status": str(item.status),
    }


def reallocation_row(agreement_id: str, item: Reallocation) -> Row:
    """A task moved from one person to another."""
    return {
        "reallocation_id": item.id,
        "agreement_id": agreement_id,
        "change_id": item.change_id,
        "task": item.task,
        "hours_per_week": item.hours_per_week,
        "from_person_id": item.from_person_id,
        "to_person_id": item.to_person_id,
        "effective_on": item.effective_on,
        "reason": item.reason,
        "status": str(item.status),
    }


def review_row(agreement_id: str, item: Review) -> Row:
    """A review held on an agreement."""
    return {
        "review_id": item.id,
        "agreement_id": agreement_id,
        "held_on": item.held_on,
        "outcome": str(item.outcome),
        "notes": item.notes,
        "next_review_on": item.next_review_on,
        "held_by": item.held_by,
    }


def artifact_row(agreement_id: str, employee_id: str, item: Artifact) -> Row:
    """A piece of evidence recorded on an agreement (the employee's, for evidence)."""
    return {
        "artifact_id": item.id,
        "agreement_id": agreement_id,
        "employee_id": employee_id,
        "title": item.title,
        "kind": str(item.kind),
        "url": item.url,
        "skills": list(item.skills),
        "recorded_by": item.recorded_by,
        "recorded_on": item.recorded_on,
    }


def change_row(
    agreement_id: str, change: Change, *, in_effect: bool, recorded_at: datetime | None
) -> Row:
    """A reversible step; `in_effect` is whether a root change is in effect now (stored in
    the column `effective`)."""
    return {
        "change_id": change.id,
        "agreement_id": agreement_id,
        "kind": str(change.kind),
        "root_id": change.root_id,
        "subject_id": change.subject_id,
        "version": change.version,
        "reverts": change.reverts,
        "reverted_by": change.reverted_by,
        "effective": in_effect,
        "guardrails_before": camel_json(change.guardrails_before),
        "guardrails_after": camel_json(change.guardrails_after),
        "sketch_before": camel_json(change.sketch_before),
        "sketch_after": camel_json(change.sketch_after),
        "recorded_at": recorded_at,
    }


def profile_columns(profile: Profile) -> Row:
    """A person's directory entry, as the `people` table holds it."""
    return {
        "display_name": profile.display_name,
        "email": profile.email,
        "manager_id": profile.manager_id,
        "team_id": profile.team_id,
        "contracted_hours_per_week": profile.contracted_hours_per_week,
        "active": profile.active,
    }


def provisioning_columns(provisioning: Provisioning) -> Row:
    """What an identity provider keeps about a person, as the `people` table holds it."""
    return {
        "external_id": provisioning.external_id,
        "employee_number": provisioning.employee_number,
        "deprovisioned": provisioning.deprovisioned,
    }


def person_row(person: Person) -> Row:
    """The write model's person as a `people` row (without its stream columns)."""
    return {
        "person_id": person.person_id,
        **profile_columns(person.profile),
        **provisioning_columns(person.provisioning),
        "version": person.version,
        "legal_hold": person.on_hold,
        "erased": person.erased,
        "inactive_since": None,  # kept by the projector (retention reads it there)
        "created_at": person.created_on,
        "updated_at": person.modified_on,
    }


def outcome_rows(agreement_id: str, entries: Iterable[Mapping[str, Any]]) -> list[Row]:
    """The aggregate's outcomes (domain.agreement.outcomes) as `outcomes` rows. The
    aggregate keeps no reasons (sealed text stays in the events), so these have none;
    entries from snapshots older than outcomes on the page lack who and when."""

    def instant(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text)

    return [
        {
            "outcome_id": e["id"],
            "agreement_id": agreement_id,
            "kind": e["kind"],
            "achieved_on": date.fromisoformat(e["on"]),
            "reason": None,
            "recorded_by": e.get("by"),
            "recorded_at": instant(e.get("at")),
            "version": e.get("version"),
            "reverted": e["reverted"],
            "reverted_by": e.get("reverted_by"),
            "reverted_at": instant(e.get("reverted_at")),
            "revert_reason": None,
        }
        for e in entries
    ]


def agreement_row(agreement: Agreement, position: int | None = None) -> Row:
    """The write model's agreement as an `agreements` row, with its children under
    `_children`: each kind built only when a query selects it (a long agreement has
    thousands of reviews that a mutation's payload rarely asks for)."""
    aid = str(agreement.id)

    def changes() -> list[Row]:
        ordered = sorted(agreement.changes.values(), key=lambda c: c.version)
        return [
            change_row(
                aid,
                c,
                in_effect=agreement.is_in_effect(c.id) if c.root_id == c.id else True,
                recorded_at=None,
            )
            for c in ordered
        ]

    employee = agreement.employee_id
    children: dict[str, Callable[[], list[Row]]] = {
        "adjustments": lambda: [adjustment_row(aid, a) for a in agreement.adjustments.values()],
        "reallocations": lambda: [
            reallocation_row(aid, r) for r in agreement.reallocations.values()
        ],
        "reviews": lambda: [review_row(aid, r) for r in agreement.reviews],
        "artifacts": lambda: [artifact_row(aid, employee, a) for a in agreement.artifacts],
        "changes": changes,
        "outcomes": lambda: outcome_rows(aid, agreement.outcomes),
    }
    return {
        "agreement_id": aid,
        "employee_id": employee,
        "approved_by_manager_id": agreement.manager_id,
        "status": str(agreement.status),
        **goal_columns(agreement.title, agreement.career_goal),
        "guardrails": camel_json(agreement.guardrails) if agreement.guardrails else None,
        "sketch": camel_json(agreement.sketch),
        "development_hours": agreement.development_hours(),
        "next_review_on": agreement.next_review_on,
        "version": agreement.version,
        "position": position,
        "created_at": agreement.created_on,
        "updated_at": agreement.modified_on,
        "_children": children,
    }
