"""Read-model tables (SQLAlchemy Core), in the event store's database.

The tables of one build carry a generation number in their names (`rm3_agreements`):
a rebuild fills the next generation beside the live one and then switches
`projection_state.generation` in one transaction, so the service keeps answering from
the old tables until the new ones are complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

# Bump when the tables or the way events fill them change: they are then rebuilt.
# 3: sealed texts; 4: provisioning (SCIM); 5: webhook URLs only as their receiver;
# 6: when a person was registered (SCIM meta); 7: the crafting sketch, the name index
# (name_tokens); 8: outcomes (and outcome events on ended agreements in a rebuild), the
# insights' months (insight_months, insight_clock); 9: every insight table kept (the
# agreements' approval time, the directory's history: insight_memberships) and changes
# in effect indexed (the agreement page reads the latest, earlier ones a page at a time);
# 10: each person's latest outcome kept (insight_outcomes) and the skills named, as keyed
# hashes (insight_skills); the monthly series of development time and reviews
# (insight_months' hours, reviews); 11: a rebuild leaves each agreement's children
# together on disk (`clustered_children`, PostgreSQL); 12: the children of the agreement
# lists carry their agreement's `created_position` (`agreement_position`) and are kept in
# that order, so a page reads each kind with one range scan (api.graphql.compiled)
READ_MODEL_VERSION = 12  # 2: children indexed by (agreement, position)
PROJECTION_NAME = "read_model"

state_metadata = MetaData()
projection_state = Table(
    "crafting_projection_state",
    state_metadata,
    Column("name", String(64), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    # The read models' position lives with every follower's (crafting_follower_positions);
    # databases of older releases still have a `position` column here, unused.
    Column("building_generation", Integer, nullable=True),
)

ID = String(64)
TS = DateTime(timezone=True)


@dataclass(frozen=True)
class ReadModel:
    """The tables of one generation."""

    generation: int
    metadata: MetaData
    agreements: Table
    adjustments: Table
    reallocations: Table
    changes: Table
    reviews: Table
    artifacts: Table
    outcomes: Table
    people: Table
    audit_log: Table
    name_tokens: Table
    insight_months: Table
    insight_clock: Table
    insight_memberships: Table
    insight_outcomes: Table
    insight_skills: Table


@cache
def read_model(generation: int) -> ReadModel:
    """The Table objects of a generation (built once per process)."""
    md = MetaData()
    p = f"rm{generation}_"

    def table(name: str, *columns: Column[object] | Index) -> Table:
        return Table(p + name, md, *columns)

    agreements = table(
        "agreements",
        Column("agreement_id", ID, primary_key=True),
        Column("employee_id", String(128), nullable=False, index=True),
        Column("approved_by_manager_id", String(128)),
        Column("status", String(32), nullable=False),
        Column("title", Text, nullable=False),
        Column("target_role", Text, nullable=False),
        Column("skills", JSON, nullable=False),
        Column("target_date", Date),
        Column("guardrails", JSON),
        Column("sketch", JSON),  # camelCase, as GraphQL reads it; null until drawn
        Column("development_hours", Float, nullable=False),
        Column("next_review_on", Date),
        # When it was (last) approved: the insights' outcomes count days from it and
        # their skills count the people with an approved agreement.
        Column("approved_at", TS),
        Column("version", Integer, nullable=False),
        Column("position", BigInteger, nullable=False),
        # Keyset order of lists: fixed at creation, so paging never skips a row.
        Column("created_position", BigInteger, nullable=False, unique=True),
        Column("created_at", TS, nullable=False),
        Column("updated_at", TS, nullable=False),
        Index(f"ix_{p}agreements_updated", "updated_at", "agreement_id"),
        Index(f"ix_{p}agreements_status_review", "status", "next_review_on"),
        # The approved agreements and their people (the insights' skills tables).
        Index(f"ix_{p}agreements_approved", "approved_at", "employee_id", "agreement_id"),
        # Covering the insights' running agreements per person and their reviews due
        # (projections.insights.months.team_figures): read from the index alone.
        Index(
            f"ix_{p}agreements_running",
            "status",
            "employee_id",
            "development_hours",
            "next_review_on",
        ),
    )
    # Children are only read as "this agreement's, in recorded order" (the latest
    # review: that index backwards), so that is how they are indexed.
    adjustments = table(
        "adjustments",
        Column("adjustment_id", ID, primary_key=True),
        Column("agreement_id", ID, nullable=False),
        # Its agreement's `created_position` (fixed at creation, the lists' keyset): a
        # page of agreements reads its children of a kind as one range of this index.
        Column("agreement_position", BigInteger, nullable=False),
        Column("change_id", ID, nullable=False),
        Column("kind", String(16), nullable=False),
        Column("description", Text, nullable=False),
        Column("hours_per_week", Float, nullable=False),
        Column("starts_on", Date),
        Column("ends_on", Date),
        Column("status", String(16), nullable=False),
        Column("position", BigInteger, nullable=False),
        Column("seq", Integer, nullable=False),  # order within one event (a proposal)
        Index(f"ix_{p}adjustments_agreement", "agreement_id", "position", "seq"),
        Index(f"ix_{p}adjustments_page", "agreement_position", "position", "seq"),
    )
    reallocations = table(
        "reallocations",
        Column("reallocation_id", ID, primary_key=True),
        Column("agreement_id", ID, nullable=False),
        # Its agreement's `created_position` (fixed at creation, the lists' keyset): a
        # page of agreements reads its children of a kind as one range of this index.
        Column("agreement_position", BigInteger, nullable=False),
        Column("change_id", ID, nullable=False),
        Column("task", Text, nullable=False),
        Column("hours_per_week", Float, nullable=False),
        Column("from_person_id", String(128), nullable=False, index=True),
        Column("to_person_id", String(128), nullable=False, index=True),
        Column("effective_on", Date, nullable=False),
        Column("reason", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("position", BigInteger, nullable=False),
        Index(f"ix_{p}reallocations_agreement", "agreement_id", "position"),
        Index(f"ix_{p}reallocations_page", "agreement_position", "position"),
    )
    changes = table(
        "changes",
        Column("change_id", ID, primary_key=True),
        Column("agreement_id", ID, nullable=False),
        # Its agreement's `created_position` (fixed at creation, the lists' keyset): a
        # page of agreements reads its children of a kind as one range of this index.
        Column("agreement_position", BigInteger, nullable=False),
        Column("kind", String(32), nullable=False),
        Column("root_id", ID, nullable=False),
        Column("subject_id", ID, nullable=False),
        Column("version", Integer, nullable=False),
        Column("reverts", ID),
        Column("reverted_by", ID),
        Column("effective", Boolean, nullable=False),  # meaningful on root changes
        Column("guardrails_before", JSON),
        Column("guardrails_after", JSON),
        Column("sketch_before", JSON),
        Column("sketch_after", JSON),
        Column("recorded_at", TS, nullable=False),
        Column("position", BigInteger, nullable=False),
        Column("seq", Integer, nullable=False),
        Index(f"ix_{p}changes_agreement", "agreement_id", "position", "seq"),
        # The changes still in effect (reverted_by NULL), latest first: the range read
        # and the count of the agreement page's revert list.
        Index(f"ix_{p}changes_in_effect", "agreement_id", "reverted_by", "position", "seq"),
        Index(f"ix_{p}changes_page", "agreement_position", "position", "seq"),
    )
    reviews = table(
        "reviews",
        Column("review_id", ID, primary_key=True),
        Column("agreement_id", ID, nullable=False),
        # Its agreement's `created_position` (fixed at creation, the lists' keyset): a
        # page of agreements reads its children of a kind as one range of this index.
        Column("agreement_position", BigInteger, nullable=False),
        Column("held_on", Date, nullable=False),
        Column("outcome", String(32), nullable=False),
        Column("notes", Text),
        Column("next_review_on", Date, nullable=False),
        Column("held_by", String(128), nullable=False),
        Column("position", BigInteger, nullable=False),
        Index(f"ix_{p}reviews_agreement", "agreement_id", "position"),
        Index(f"ix_{p}reviews_page", "agreement_position", "position"),
    )
    artifacts = table(
        "artifacts",
        Column("artifact_id", ID, primary_key=True),
        Column("agreement_id", ID, nullable=False),
        # Its agreement's `created_position` (fixed at creation, the lists' keyset): a
        # page of agreements reads its children of a kind as one range of this index.
        Column("agreement_position", BigInteger, nullable=False),
        Column("employee_id", String(128), nullable=False, index=True),
        Column("title", Text, nullable=False),
        Column("kind", String(32), nullable=False),
        Column("url", Text),
        Column("skills", JSON, nullable=False),
        Column("recorded_by", String(128), nullable=False),
        Column("recorded_on", Date, nullable=False),
        Column("position", BigInteger, nullable=False),
        Index(f"ix_{p}artifacts_agreement", "agreement_id", "position"),
        Index(f"ix_{p}artifacts_page", "agreement_position", "position"),
    )
    # What an ended agreement led to (domain.agreement.outcomes): every one recorded,
    # reverted ones marked; the one in effect is the latest not reverted.
    outcomes = table(
        "outcomes",
        Column("outcome_id", ID, primary_key=True),
        Column("agreement_id", ID, nullable=False),
        Column("kind", String(32), nullable=False),
        Column("achieved_on", Date, nullable=False),
        Column("reason", Text),  # sealed: why (required for STOPPED and GOAL_CHANGED)
        Column("recorded_by", String(128), nullable=False),
        Column("recorded_at", TS, nullable=False),
        Column("version", Integer, nullable=False),  # the agreement's, once recorded
        Column("reverted", Boolean, nullable=False),
        Column("reverted_by", String(128)),
        Column("reverted_at", TS),
        Column("revert_reason", Text),  # sealed
        Column("position", BigInteger, nullable=False),
        Index(f"ix_{p}outcomes_agreement", "agreement_id", "position"),
    )
    people = table(
        "people",
        Column("person_id", String(128), primary_key=True),
        Column("stream_id", ID, nullable=False, unique=True),
        Column("display_name", Text, nullable=False),
        Column("email", Text, nullable=False),
        Column("manager_id", String(128), index=True),
        Column("team_id", String(128), index=True),
        Column("contracted_hours_per_week", Float, nullable=False),
        Column("active", Boolean, nullable=False),
        # What an identity provider keeps (SCIM): its id for the person, the employee
        # number, and whether it removed them (then hidden from SCIM, kept here).
        Column("external_id", String(128), index=True),
        Column("employee_number", String(128)),
        Column("deprovisioned", Boolean, nullable=False),
        Column("legal_hold", Boolean, nullable=False),
        Column("erased", Boolean, nullable=False),
        Column("inactive_since", TS),  # when they left, for retention
        Column("version", Integer, nullable=False),
        Column("created_at", TS, nullable=False),  # registered (SCIM's meta.created)
        Column("updated_at", TS, nullable=False),
        # Covering the insights' people per team (projections.insights.months).
        Index(f"ix_{p}people_team", "team_id", "active", "person_id", "contracted_hours_per_week"),
    )
    # Keyed hashes of the words of each person's display name (projections.name_index):
    # a search by name, although names are sealed; a person's rows go with their erasure.
    name_tokens = table(
        "name_tokens",
        Column("person_id", String(128), primary_key=True),
        Column("token", String(64), primary_key=True),
        Index(f"ix_{p}name_tokens_token", "token", "person_id"),
    )
    # Each team at the last instant of each closed month (projections.insights.months,
    # month_close): written once, when the log first shows a later month, and never
    # changed after, so the monthly series reads these rows instead of the whole log.
    insight_months = table(
        "insight_months",
        Column("month", String(7), primary_key=True),  # YYYY-MM
        Column("team_id", String(128), primary_key=True),
        Column("participants", Integer, nullable=False),  # with an agreement running
        Column("members", Integer, nullable=False),  # active in the team then
        # For the monthly series of development time and reviews (projections.insights.
        # month_close): the members' contracted hours, the development hours of their
        # running agreements, the members with an active agreement and those of them
        # with a review overdue on the month's last day.
        Column("contracted", Float, nullable=False),
        Column("development", Float, nullable=False),
        Column("reviewed", Integer, nullable=False),
        Column("overdue", Integer, nullable=False),
    )
    # How far the log's time has gone (its latest event) and when the first agreement
    # was approved (the series starts there): one row.
    insight_clock = table(
        "insight_clock",
        Column("name", String(16), primary_key=True),
        Column("latest_at", TS, nullable=False),
        Column("first_approved_at", TS),
    )
    # The directory's history (projections.insights.precomputed): one row per Registered or
    # ProfileChanged event, the team the person was in from then on (null: inactive),
    # so a team at a past instant (an outcome's) is read without the log. Team ids only.
    insight_memberships = table(
        "insight_memberships",
        Column("person_id", String(128), primary_key=True),
        Column("version", Integer, primary_key=True),  # the person's, in log order
        Column("since", TS, nullable=False),
        Column("team_id", String(128)),
        Column("position", BigInteger, nullable=False),  # the event's, in the log
    )
    # Each person's latest outcome in effect (projections.insights.kept_outcomes), with
    # their team when it happened and the days from approval to it, recomputed on their
    # outcome and directory events: outcomes by team and target role without the log.
    # The target role only as keyed hashes (projections.insights.keyed) of its key and
    # spelling (null once it cannot be read); its text stays sealed on the agreement.
    insight_outcomes = table(
        "insight_outcomes",
        Column("person_id", String(128), primary_key=True),
        Column("agreement_id", ID, nullable=False),
        Column("kind", String(32), nullable=False),
        Column("achieved_on", Date, nullable=False),
        Column("team_id", String(128)),  # when it was achieved (else today's); null: none
        Column("days", Integer),  # from approval to the outcome; null: never approved
        Column("role_key", String(32)),
        Column("role_spelling", String(32)),
        Column("position", BigInteger, nullable=False),  # the latest event that changed it
    )
    # Every skill named by a goal (source "goal", per agreement) or an artifact
    # ("evidence"), one row per name (projections.insights.kept_skills): its key and
    # spelling as keyed hashes (null once it cannot be read, e.g. its person erased) and
    # its text sealed as on its agreement, opened only for the labels shown.
    insight_skills = table(
        "insight_skills",
        Column("item_id", ID, primary_key=True),  # the agreement's or artifact's id
        Column("seq", Integer, primary_key=True),  # the name's place in its list
        Column("source", String(8), nullable=False),
        Column("agreement_id", ID, nullable=False),
        Column("person_id", String(128), nullable=False),
        Column("skill_key", String(32)),
        Column("spelling", String(32)),
        Column("label", Text, nullable=False),  # sealed
        Column("position", BigInteger, nullable=False),
        # Covering the counts per skill and spelling (the tables' grouped selects).
        Index(
            f"ix_{p}insight_skills_key",
            "source",
            "skill_key",
            "spelling",
            "person_id",
            "agreement_id",
        ),
        Index(f"ix_{p}insight_skills_person", "person_id"),
    )
    audit_log = table(
        "audit_log",
        Column("position", BigInteger, primary_key=True, autoincrement=False),
        Column("stream_id", ID, nullable=False),
        Column("stream_type", String(16), nullable=False),
        Column("agreement_id", ID),
        Column("version", Integer, nullable=False),
        Column("type", String(64), nullable=False),
        Column("recorded_at", TS, nullable=False),
        Column("actor_id", String(128), nullable=False),
        Column("actor_role", String(16), nullable=False),
        Column("reason", Text),
        Column("correlation_id", String(128), nullable=False),
        Column("idempotency_key", String(200)),
        Column("payload", JSON, nullable=False),
        Index(f"ix_{p}audit_agreement", "agreement_id", "position"),
        Index(f"ix_{p}audit_actor", "actor_id", "position"),
        Index(f"ix_{p}audit_type", "type", "position"),
        Index(f"ix_{p}audit_recorded", "recorded_at"),
    )
    return ReadModel(
        generation,
        md,
        agreements,
        adjustments,
        reallocations,
        changes,
        reviews,
        artifacts,
        outcomes,
        people,
        audit_log,
        name_tokens,
        insight_months,
        insight_clock,
        insight_memberships,
        insight_outcomes,
        insight_skills,
    )


def clustered_children(rm: ReadModel) -> list[tuple[str, str]]:
    """The tables of an agreement's children, each with the index a rebuild rewrites it
    in (infra.followers.read_models): (agreement's created position, position) for
    the agreement lists' children, so a page's lie together in page order, each
    agreement's together too; (agreement, position) for the outcomes."""
    tables = [rm.adjustments, rm.reallocations, rm.reviews, rm.changes, rm.artifacts, rm.outcomes]
    names = {i.name for t in tables for i in t.indexes}
    return [
        (t.name, f"ix_{t.name}_page" if f"ix_{t.name}_page" in names else f"ix_{t.name}_agreement")
        for t in tables
    ]
