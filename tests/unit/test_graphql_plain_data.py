"""The insight tables' objects completed in one pass (api.graphql.plain_data): the same
answer, byte for byte, and the same errors as graphql-core's completion field by field,
without graphql-core's execution of each field."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from graphql.execution.executor import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.graphql.schema import CraftingSchema, build_schema
from domain.access import Actor
from domain.values import Role
from projections.insights.figures import Insights, Month, ReleasedRow, Table

ROW = "group suppressed count others value"
TABLE = f"counts measure rows {{ {ROW} }} total {{ {ROW} }} suppressedRows"
EVERYTHING = f"""{{ insights {{ minimumGroupSize asOf fairnessRefusalsRecorded
  participation {{ {TABLE} }}
  participationByMonth {{ month table {{ {TABLE} }} }}
  developmentTimeByMonth {{ month table {{ {TABLE} }} }}
  reviewsByMonth {{ month table {{ {TABLE} }} }}
  developmentTime {{ {TABLE} }} hoursGiven {{ {TABLE} }} hoursReceived {{ {TABLE} }}
  outcomesByTeam {{ {TABLE} }} outcomesByTargetRole {{ {TABLE} }} reviews {{ {TABLE} }}
  skillsTargeted {{ {TABLE} }} skillsEvidenced {{ {TABLE} }} }} }}"""
# Aliases, __typename, fragments and directives, as a client may send them.
SHAPED = """query($withRows: Boolean!) { __typename
  insights { __typename min: minimumGroupSize
    participation { ...T rows @include(if: $withRows) { ...R } again: rows { g: group } }
    reviewsByMonth { month table { total { ...R } rows @skip(if: $withRows) { group } } }
  } }
fragment T on InsightTable { __typename counts suppressedRows total { __typename value } }
fragment R on InsightRow { group count others value suppressed }"""


def table(rng: random.Random, teams: int, *, total: bool = True) -> Table:
    rows = tuple(
        ReleasedRow(
            f"team-{i}",
            None if rng.random() < 0.2 else (rng.randint(0, 9), rng.randint(0, 30)),
            None if rng.random() < 0.3 else round(rng.random() * 100, 1),
        )
        for i in range(teams)
    )
    return Table(rows, ReleasedRow("All", (3, 4), 2.5) if total else None)


def found(seed: int = 30, teams: int = 12) -> Insights:
    rng = random.Random(seed)

    def months() -> tuple[Month, ...]:
        return tuple(Month(f"2026-{m:02d}", table(rng, teams)) for m in range(1, 13))

    return Insights(
        5,
        datetime(2026, 12, 5, 12, 30, tzinfo=UTC),
        table(rng, teams),
        months(),
        table(rng, teams),
        table(rng, teams // 2),
        table(rng, teams // 2, total=False),
        table(rng, teams),
        table(rng, 4),
        table(rng, teams),
        table(rng, 20, total=False),
        table(rng, 20, total=False),
        months(),
        months(),
    )


def answer(
    schema: CraftingSchema, insights: Any, query: str, variables: dict[str, Any] | None = None
) -> tuple[str, list[tuple[str, list[str | int] | None]]]:
    reads = SimpleNamespace(insights=lambda *_: insights)
    context = SimpleNamespace(
        actor=Actor("hr-1", frozenset({Role.HR})), ports=SimpleNamespace(reads=reads)
    )
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=context))
    errors = [(e.message, e.path) for e in result.errors or []]
    return json.dumps(result.data), errors


def schemas() -> tuple[CraftingSchema, CraftingSchema]:
    """The schema as served, and the same schema completing field by field."""
    stock = build_schema()
    stock.execution_context_class = StrawberryGraphQLCoreExecutionContext
    return build_schema(), stock


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_insight_table_reads_byte_for_byte_as_field_by_field(seed: int) -> None:
    served, stock = schemas()
    ours = answer(served, found(seed), EVERYTHING)
    assert ours == answer(stock, found(seed), EVERYTHING)
    assert ours[1] == [] and '"suppressed": true' in ours[0] and '"total": null' in ours[0]


@pytest.mark.parametrize("with_rows", [True, False])
def test_aliases_fragments_and_directives_read_as_field_by_field(with_rows: bool) -> None:
    served, stock = schemas()
    variables = {"withRows": with_rows}
    ours = answer(served, found(), SHAPED, variables)
    assert ours == answer(stock, found(), SHAPED, variables)
    assert '"__typename": "InsightTable"' in ours[0] and '"g": "team-0"' in ours[0]


def executed_fields(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The parent type of each field graphql-core executes on its own, from now on."""
    executed: list[str] = []
    execute_field = Executor.execute_field

    def counted(self: Executor, parent_type: Any, *args: Any, **kwargs: Any) -> Any:
        executed.append(parent_type.name)
        return execute_field(self, parent_type, *args, **kwargs)

    monkeypatch.setattr(Executor, "execute_field", counted)
    return executed


def test_the_insight_tables_are_not_executed_field_by_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executed = executed_fields(monkeypatch)
    served, _ = schemas()
    data, errors = answer(served, found(teams=40), EVERYTHING)
    assert errors == [] and data.count('"group"') > 40 * 12 * 3
    # Only the query's own field: every object below it was completed in one pass.
    assert executed == ["Query"]


def test_a_null_in_a_non_null_field_is_the_same_error_as_field_by_field() -> None:
    broken = found()
    rows = broken.participation.rows
    bad = Table((rows[0], ReleasedRow(None, (1, 2), 3.0), *rows[2:]), None)  # type: ignore[arg-type]
    broken = Insights(**{**vars(broken), "participation": bad})
    served, stock = schemas()
    ours = answer(served, broken, EVERYTHING)
    assert ours == answer(stock, broken, EVERYTHING)
    assert ours[0] == "null" and ours[1][0][1] == ["insights", "participation", "rows", 1, "group"]


def test_a_value_a_scalar_refuses_is_the_same_error_as_field_by_field() -> None:
    broken = found()
    rows = broken.development_time.rows
    bad = Table((ReleasedRow("team-0", (2**40, 1), 1.0), *rows[1:]), broken.development_time.total)
    broken = Insights(**{**vars(broken), "development_time": bad})
    served, stock = schemas()
    ours = answer(served, broken, EVERYTHING)
    assert ours == answer(stock, broken, EVERYTHING)
    assert ours[1] and ours[1][0][1] == ["insights", "developmentTime", "rows", 0, "count"]


# Rows selected by arguments, literal and from variables, beside every row.
SELECTED = """query($groups: [String!], $first: Int, $after: String) { insights {
  participation { total { count } suppressedRows
    some: rows(groups: ["team-3", "nobody", "team-1"]) { group count }
    page: rows(first: 2, after: "team-4") { group }
    asked: rows(groups: $groups, first: $first, after: $after) { ...R }
    all: rows { group } }
  reviewsByMonth { month table { total { count } rows(groups: $groups) { group value } } }
} }
fragment R on InsightRow { group count others value suppressed }"""


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"groups": ["team-7", "team-2", "team-5"]},
        {"groups": ["team-7", "team-2", "team-5"], "first": 1, "after": "team-2"},
        {"first": 0},
        {"first": 1000, "after": "team-11"},
    ],
)
def test_selected_rows_read_byte_for_byte_as_field_by_field(variables: dict[str, Any]) -> None:
    served, stock = schemas()
    ours = answer(served, found(), SELECTED, variables)
    assert ours == answer(stock, found(), SELECTED, variables)
    assert ours[1] == []


def test_selected_rows_are_the_tables_rows_in_its_order_with_its_total() -> None:
    served, _ = schemas()
    released = found()
    data, errors = answer(served, released, SELECTED, {"groups": ["team-7", "team-2"]})
    assert errors == []
    table = json.loads(data)["insights"]["participation"]
    whole = released.participation
    assert [r["group"] for r in table["some"]] == ["team-1", "team-3"]
    assert [r["group"] for r in table["page"]] == ["team-5", "team-6"]
    assert [r["group"] for r in table["asked"]] == ["team-2", "team-7"]
    assert len(table["all"]) == len(whole.rows) == 12
    # What is withheld is the whole table's: selecting changes neither figure.
    assert table["suppressedRows"] == whole.suppressed
    assert table["total"] == {"count": whole.total.counts[0]}  # type: ignore[union-attr]
    for month in json.loads(data)["insights"]["reviewsByMonth"]:
        assert [r["group"] for r in month["table"]["rows"]] == ["team-2", "team-7"]


@pytest.mark.parametrize(
    ("variables", "message", "field"),
    [
        ({"first": 1001}, "`first` must be between 0 and 1000", "first"),
        ({"first": -1}, "`first` must be between 0 and 1000", "first"),
        ({"after": "team-99"}, "No row of this table is the group 'team-99'", "after"),
    ],
)
def test_a_refused_selection_is_the_same_error_as_field_by_field(
    variables: dict[str, Any], message: str, field: str
) -> None:
    served, stock = schemas()
    ours = answer(served, found(), SELECTED, variables)
    assert ours == answer(stock, found(), SELECTED, variables)
    assert ours[0] == "null" and ours[1][0][0].startswith(message)
    assert ours[1][0][1] == ["insights", "participation", "asked"]
    reads = SimpleNamespace(insights=lambda *_: found())
    context = SimpleNamespace(
        actor=Actor("hr-1", frozenset({Role.HR})), ports=SimpleNamespace(reads=reads)
    )
    result = asyncio.run(served.execute(SELECTED, variable_values=variables, context_value=context))
    assert result.errors and result.errors[0].extensions == {
        "code": "BAD_USER_INPUT",
        "field": field,
    }


def test_selected_rows_are_not_executed_field_by_field(monkeypatch: pytest.MonkeyPatch) -> None:
    executed = executed_fields(monkeypatch)
    served, _ = schemas()
    data, errors = answer(served, found(teams=40), SELECTED, {"groups": ["team-2"]})
    assert errors == [] and '"team-2"' in data
    assert executed == ["Query"]
