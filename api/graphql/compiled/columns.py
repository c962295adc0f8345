"""What each GraphQL type's fields are in the read tables, and which fields are not.

Every field of a type the compiler reaches is either compiled — a column here, or a
nested object or list the compiler builds — or listed in `LEFT_TO_RESOLVERS`; a test
holds the schema to that, so a new field cannot go unnoticed to the slow path.
"""

from __future__ import annotations

from api.graphql.compiled.sql import (
    SqlOf,
    column,
    float_column,
    global_id_column,
    instant_column,
    json_key,
)

SCALARS: dict[str, dict[str, SqlOf]] = {
    "Agreement": {
        "id": global_id_column("Agreement", "agreement_id"),
        "agreementId": column("agreement_id"),
        "employeeId": column("employee_id"),
        "approvedByManagerId": column("approved_by_manager_id"),
        "status": column("status"),
        "title": column("title"),
        "developmentHoursPerWeek": float_column("development_hours"),
        "nextReviewOn": column("next_review_on"),
        "version": column("version"),
        "createdAt": instant_column("created_at"),
        "updatedAt": instant_column("updated_at"),
    },
    "CareerGoal": {  # columns of the agreement's own row
        "targetRole": column("target_role"),
        "skills": column("skills"),
        "targetDate": column("target_date"),
    },
    "Guardrails": {  # keys of the agreement's guardrails JSON (camelCase as stored)
        "maxDevelopmentHoursPerWeek": json_key("guardrails", "maxDevelopmentHoursPerWeek"),
        "protectedResponsibilities": json_key("guardrails", "protectedResponsibilities"),
        "reviewEveryDays": json_key("guardrails", "reviewEveryDays"),
        "endsOn": json_key("guardrails", "endsOn"),
    },
    "Person": {
        "id": global_id_column("Person", "person_id"),
        "personId": column("person_id"),
        "displayName": column("display_name"),
        "email": column("email"),
        "managerId": column("manager_id"),
        "teamId": column("team_id"),
        "contractedHoursPerWeek": float_column("contracted_hours_per_week"),
        "active": column("active"),
        "legalHold": column("legal_hold"),
        "erased": column("erased"),
        "updatedAt": instant_column("updated_at"),
    },
    "Adjustment": {
        "id": column("adjustment_id"),
        "changeId": column("change_id"),
        "kind": column("kind"),
        "description": column("description"),
        "hoursPerWeek": float_column("hours_per_week"),
        "startsOn": column("starts_on"),
        "endsOn": column("ends_on"),
        "status": column("status"),
    },
    "Reallocation": {
        "id": column("reallocation_id"),
        "changeId": column("change_id"),
        "task": column("task"),
        "hoursPerWeek": float_column("hours_per_week"),
        "fromPersonId": column("from_person_id"),
        "toPersonId": column("to_person_id"),
        "effectiveOn": column("effective_on"),
        "reason": column("reason"),
        "status": column("status"),
    },
    "Review": {
        "id": column("review_id"),
        "heldOn": column("held_on"),
        "outcome": column("outcome"),
        "notes": column("notes"),
        "nextReviewOn": column("next_review_on"),
        "heldBy": column("held_by"),
    },
    "Artifact": {
        "id": column("artifact_id"),
        "title": column("title"),
        "kind": column("kind"),
        "url": column("url"),
        "skills": column("skills"),
        "recordedBy": column("recorded_by"),
        "recordedOn": column("recorded_on"),
        "agreementId": global_id_column("Agreement", "agreement_id"),
    },
    "Change": {
        "changeId": column("change_id"),
        "kind": column("kind"),
        "subjectId": column("subject_id"),
        "rootChangeId": column("root_id"),
        "version": column("version"),
        "revertsChangeId": column("reverts"),
        "revertedByChangeId": column("reverted_by"),
        "inEffect": lambda t: f"({t}.reverted_by IS NULL)",
    },
}

# An agreement's lists: table, GraphQL type, order (as projections.queries.children).
CHILD_LISTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "adjustments": ("adjustments", "Adjustment", ("position", "seq")),
    "reallocations": ("reallocations", "Reallocation", ("position",)),
    "reviews": ("reviews", "Review", ("position",)),
    "artifacts": ("artifacts", "Artifact", ("position",)),
    "changes": ("changes", "Change", ("position", "seq")),
}
ROOT_LISTS = ("agreements",)

# Fields of the types above (and of the types between them and the root) that the
# compiler does not answer: a document selecting one takes the resolvers' path. By
# type, each with why.
LEFT_TO_RESOLVERS: dict[str, dict[str, str]] = {
    "Agreement": {
        "sketch": "one JSON value whose after-blocks' moves and totals are computed in Python",
        "outcome": "the latest of a list not reverted (a short list, read when asked for)",
        "outcomes": "a short list, read when asked for",
    },
    "Query": {
        "reviewsDue": "sorted by due date with its own cursors (and a manager's list is short)",
        "viewer": "the caller, not the read tables",
        "node": "one object: the resolvers are as fast",
        "agreement": "one object: the resolvers are as fast",
        "person": "one object: the resolvers are as fast",
        "agreementAt": "replayed from the events",
        "verifyIntegrity": "replayed from the events",
        "auditLog": "the log's own pages and filters",
        "changes": "the log's own pages",
        "teamWorkload": "totals computed in Python",
        "careerEvidence": "evidence gathered in Python",
        "insights": "tables computed and suppressed in Python (docs/insights.md)",
        "careerPath": "a person's agreements with their lifecycle from the log",
        "dossier": "an access check and an address, no read tables",
        "personDossier": "an access check and an address (the person's agreement ids)",
        "heldDeactivations": "the deactivation guard's write model (a short list)",
        "webhookSubscriptions": "the delivery worker's tables, not the read models",
        "webhookDeliveries": "the delivery worker's tables, not the read models",
    },
}
