"""A person's career evidence: their agreements the viewer may read, the artifacts and
reviews recorded on them, and the skills those artifacts evidence. GraphQL's
`careerEvidence` and the web's career pages both compose it here.

Two steps, because the texts are sealed in the read tables: `career_rows` runs inside
`Reads.run` (which opens them), and `career_evidence` counts the skills afterwards, on
plain text (two envelopes of one skill differ)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from projections import queries as q
from projections.rows import Row
from projections.tables import ReadModel

MOST_AGREEMENTS = 10_000

# The agreements, artifacts and reviews: plain lists, so `Reads.run` opens them.
CareerRows = tuple[list[Row], list[Row], list[Row]]


@dataclass(frozen=True)
class CareerEvidence:
    agreements: list[Row]
    artifacts: list[Row]
    reviews: list[Row]
    skills: list[Row]  # {"skill", "evidence_count"}, most evidenced first


def career_rows(conn: Connection, rm: ReadModel, viewer: q.ReadScope, person_id: str) -> CareerRows:
    """The person's agreements that `viewer` may read, with their artifacts and reviews
    (evidence only from those agreements), each in recorded order."""
    rows = q.list_agreements(
        conn, rm, viewer, q.AgreementCriteria(employee_id=person_id), MOST_AGREEMENTS, None
    )
    ids = [r["agreement_id"] for r in rows]
    artifacts = q.children(conn, rm, "artifacts", ids)
    reviews = q.children(conn, rm, "reviews", ids)
    return (
        rows,
        [a for r in rows for a in artifacts.get(r["agreement_id"], [])],
        [v for r in rows for v in reviews.get(r["agreement_id"], [])],
    )


def career_evidence(opened: CareerRows) -> CareerEvidence:
    """The evidence from `career_rows`' result once its texts are opened."""
    agreements, artifacts, reviews = opened
    return CareerEvidence(agreements, artifacts, reviews, q.skill_evidence(artifacts))
