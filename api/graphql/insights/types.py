"""The insight tables as GraphQL types: each row a group of people split in two, its
figures null when withheld."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from api.graphql.agreements.types import Agreement
from api.graphql.errors import BadInputError
from api.graphql.plain_data import plain_selection
from domain.agreement.outcomes import OutcomeKind
from projections.insights import figures as f
from projections.insights.views import selected


@strawberry.type(description="One group's figures; all null when withheld (suppressed).")
class InsightRow:
    group: str = strawberry.field(description="The team, the target role, or 'All'.")
    suppressed: bool
    count: int | None = strawberry.field(description="People with the attribute.")
    others: int | None = strawberry.field(description="People of the group without it.")
    value: float | None = strawberry.field(
        description="The table's measure for the group (see the table's `measure`)."
    )


MAX_ROWS = 1000  # the most rows `first` may ask for at once


@strawberry.type(
    description="A released table: fixed groups, never a caller's filter. `rows` can "
    "select some of its rows; what is withheld is decided over the whole table either "
    "way, so `total` and `suppressedRows` are the whole table's."
)
class InsightTable:
    counts: str = strawberry.field(description="What `count` counts (and `others` not).")
    measure: str | None = strawberry.field(description="What `value` is, if anything.")
    total: InsightRow | None = strawberry.field(
        description="The whole organisation; null when withheld, and for managers."
    )
    suppressed_rows: int = strawberry.field(description="Withheld rows of the whole table.")
    released: strawberry.Private[tuple[f.ReleasedRow, ...]]

    @strawberry.field(
        description="The table's rows, in its order: all of them, or those selected by "
        "the arguments (`groups`, then the page `after`, `first`). Selecting only picks "
        "rows of the table already released: a row withheld in the whole table is "
        "withheld here, and no selection releases anything else."
    )
    @plain_selection
    def rows(
        self,
        groups: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Only these groups' rows (a name no row has gives no row)."
            ),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(description=f"At most this many rows (0 to {MAX_ROWS})."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The rows after this group's row (the last `group` of the "
                "previous page)."
            ),
        ] = None,
    ) -> list[InsightRow]:
        if first is not None and not 0 <= first <= MAX_ROWS:
            raise BadInputError(
                f"`first` must be between 0 and {MAX_ROWS}: ask for the next page with `after`.",
                field="first",
            )
        try:
            chosen = selected(self.released, groups, first, after)
        except KeyError:
            raise BadInputError(
                f"No row of this table is the group {after!r}: `after` takes a `group` "
                "of this table's rows.",
                field="after",
            ) from None
        return [row(r) for r in chosen]


@strawberry.type
class InsightMonth:
    month: str = strawberry.field(description="YYYY-MM; the current month so far.")
    table: InsightTable


@strawberry.type(
    description="Aggregate figures. Any figure about fewer than `minimumGroupSize` people "
    "is withheld, with other rows withheld with it so that totals, overlapping tables or "
    "two moments one person apart cannot give it away (docs/insights.md)."
)
class Insights:
    minimum_group_size: int
    as_of: datetime
    participation: InsightTable
    participation_by_month: list[InsightMonth]
    development_time_by_month: list[InsightMonth] = strawberry.field(
        description="`developmentTime` at the end of each of the last 12 months (the "
        "current month: now), each month's teams and people as they were then."
    )
    reviews_by_month: list[InsightMonth] = strawberry.field(
        description="`reviews` at the end of each of the last 12 months (the current "
        "month: now): overdue is a next review before that month's last day."
    )
    outcomes_by_month: list[InsightMonth] = strawberry.field(
        description="Per month of the last 12 (the current month: so far), per team at "
        "the outcome: the people of `outcomesByTeam` whose latest outcome was achieved "
        "that month. Withheld together with `outcomesByTeam` as one team x month table "
        "whose margins are released, so neither table gives a withheld figure away; "
        "`value` is null."
    )
    development_time: InsightTable
    hours_given: InsightTable
    hours_received: InsightTable
    outcomes_by_team: InsightTable
    outcomes_by_target_role: InsightTable
    reviews: InsightTable
    skills_targeted: InsightTable = strawberry.field(
        description="Skills in career goals, most named first (top 20); no totals."
    )
    skills_evidenced: InsightTable = strawberry.field(
        description="Skills shown by artifacts, most evidenced first (top 20); no totals."
    )
    fairness_refusals_recorded: bool = strawberry.field(
        description="False: a reallocation refused by the receiving limit records nothing "
        "(rule 4), so how often it happened is not in the log; see the "
        "crafting_commands_total metric's RECEIVER_OVERLOADED count."
    )


# (what `count` counts, what `value` is) per table.
WORDS = {
    "participation": ("people with an agreement in effect", None),
    "development_time": (
        "people with an agreement in effect",
        "development hours as a % of contracted hours",
    ),
    "hours_given": ("people giving reallocated work", "hours per week given"),
    "hours_received": ("people receiving reallocated work", "hours per week received"),
    "outcomes_by_team": (
        "people whose latest outcome was a move or a promotion",
        "median days from approval to outcome",
    ),
    "outcomes_by_target_role": (
        "people whose latest outcome was a move or a promotion",
        "median days from approval to outcome",
    ),
    "reviews": ("people with an active agreement whose review is overdue", None),
    "outcomes_by_month": (
        "people whose latest outcome, achieved that month, was a move or a promotion",
        None,
    ),
    "skills_targeted": ("people with an approved agreement whose goal names the skill", None),
    "skills_evidenced": ("people with an approved agreement with evidence of the skill", None),
}


# The fields that are one table (the others are lists of months).
TABLES = frozenset(WORDS) - {"outcomes_by_month"}


def row(released: f.ReleasedRow) -> InsightRow:
    """A released row as the API shows it."""
    counts = released.counts
    return InsightRow(
        group=released.group,
        suppressed=counts is None,
        count=None if counts is None else counts[0],
        others=None if counts is None else counts[1],
        value=released.measure,
    )


def table(name: str, released: f.Table) -> InsightTable:
    counts, measure = WORDS[name]
    return InsightTable(
        counts=counts,
        measure=measure,
        released=released.rows,
        total=None if released.total is None else row(released.total),
        suppressed_rows=released.suppressed,
    )


def insights(released: f.Insights) -> Insights:
    return Insights(
        minimum_group_size=released.minimum,
        as_of=released.as_of,
        participation_by_month=[
            InsightMonth(month=m.month, table=table("participation", m.table))
            for m in released.participation_by_month
        ],
        development_time_by_month=[
            InsightMonth(month=m.month, table=table("development_time", m.table))
            for m in released.development_time_by_month
        ],
        reviews_by_month=[
            InsightMonth(month=m.month, table=table("reviews", m.table))
            for m in released.reviews_by_month
        ],
        outcomes_by_month=[
            InsightMonth(month=m.month, table=table("outcomes_by_month", m.table))
            for m in released.outcomes_by_month
        ],
        fairness_refusals_recorded=False,
        **{name: table(name, getattr(released, name)) for name in WORDS if name in TABLES},
    )


@strawberry.type(description="One agreement on a person's path: its goal and what it led to.")
class CareerStep:
    agreement: Agreement
    started_at: datetime | None = strawberry.field(description="Approved.")
    ended_at: datetime | None = strawberry.field(description="Completed or withdrawn.")
    outcome: OutcomeKind | None = strawberry.field(description="The outcome in effect.")
    outcome_on: date | None
    days_to_outcome: int | None = strawberry.field(description="From approval to outcome.")
    hours_invested: float = strawberry.field(
        description="Estimate: development hours per week in effect (at the end) times "
        "the weeks from approval to the end or today."
    )
