"""The write model's agreement in the read model's row shape, so the same GraphQL
types serve both (mutation payloads and time travel come from the aggregate)."""

from __future__ import annotations

from typing import Any

from domain.agreement import Agreement
from projections.payload import plain

Row = dict[str, Any]


def agreement_row(agreement: Agreement, position: int | None = None) -> Row:
    """A row like `rm_agreements`, with its children under `_children`: each kind built
    only when a query selects it (a long agreement has thousands of reviews that a
    mutation's payload rarely asks for)."""
    aid = str(agreement.id)
    goal = agreement.career_goal

    def changes() -> list[Row]:
        ordered = sorted(agreement.changes.values(), key=lambda c: c.version)
        roots = {c.id: agreement.is_effective(c.id) for c in ordered if c.root_id == c.id}
        return [
            {
                "change_id": c.id,
                "agreement_id": aid,
                "kind": str(c.kind),
                "root_id": c.root_id,
                "subject_id": c.subject_id,
                "version": c.version,
                "reverts": c.reverts,
                "reverted_by": c.reverted_by,
                "effective": roots.get(c.id, True),
                "guardrails_before": plain(c.guardrails_before),
                "guardrails_after": plain(c.guardrails_after),
                "recorded_at": None,
            }
            for c in ordered
        ]

    return {
        "agreement_id": aid,
        "employee_id": agreement.employee_id,
        "approved_by_manager_id": agreement.manager_id,
        "status": str(agreement.status),
        "title": agreement.title,
        "target_role": goal.target_role,
        "skills": list(goal.skills),
        "target_date": goal.target_date,
        "guardrails": plain(agreement.guardrails) if agreement.guardrails else None,
        "development_hours": agreement.development_hours(),
        "next_review_on": agreement.next_review_on,
        "version": agreement.version,
        "position": position,
        "created_at": agreement.created_on,
        "updated_at": agreement.modified_on,
        "_children": {
            "adjustments": lambda: [
                {
                    "adjustment_id": a.id,
                    "agreement_id": aid,
                    "change_id": a.change_id,
                    "kind": str(a.kind),
                    "description": a.description,
                    "hours_per_week": a.hours_per_week,
                    "starts_on": a.starts_on,
                    "ends_on": a.ends_on,
                    "status": str(a.status),
                }
                for a in agreement.adjustments.values()
            ],
            "reallocations": lambda: [
                {
                    "reallocation_id": r.id,
                    "agreement_id": aid,
                    "change_id": r.change_id,
                    "task": r.task,
                    "hours_per_week": r.hours_per_week,
                    "from_person_id": r.from_person_id,
                    "to_person_id": r.to_person_id,
                    "effective_on": r.effective_on,
                    "reason": r.reason,
                    "status": str(r.status),
                }
                for r in agreement.reallocations.values()
            ],
            "reviews": lambda: [
                {
                    "review_id": r.id,
                    "agreement_id": aid,
                    "held_on": r.held_on,
                    "outcome": str(r.outcome),
                    "notes": r.notes,
                    "next_review_on": r.next_review_on,
                    "held_by": r.held_by,
                }
                for r in agreement.reviews
            ],
            "artifacts": lambda: [
                {
                    "artifact_id": a.id,
                    "agreement_id": aid,
                    "employee_id": agreement.employee_id,
                    "title": a.title,
                    "kind": str(a.kind),
                    "url": a.url,
                    "skills": list(a.skills),
                    "recorded_by": a.recorded_by,
                    "recorded_on": a.recorded_on,
                }
                for a in agreement.artifacts
            ],
            "changes": changes,
        },
    }
