"""A run of one agreement's list (projections.queries.list_slice): the latest run is
read with two statements (its rows and the list's count), earlier and later runs with
three; the counts the page's headings show are the same either way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from domain.application import commands as c
from domain.values import AdjustmentDraft, AdjustmentKind
from infra.bootstrap import Container
from projections import queries as q
from tests.support import Org


def test_the_latest_run_of_a_list_costs_two_statements_and_counts_as_the_others(
    container: Container,
) -> None:
    container.prepare()
    org = Org(container.app)
    agreement = org.active()
    for i in range(6):
        org.run(
            org.manager,
            c.AddAdjustment(
                agreement_id=agreement.id,
                adjustment=AdjustmentDraft(AdjustmentKind.COGNITIVE, f"Reframe {i}", 0),
            ),
        )
    container.projector.catch_up()
    key = str(agreement.id)
    engine = container.engines.reader
    statements: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with engine.connect() as conn:
        rm = q.live_read_model(conn)
        event.listen(engine, "before_cursor_execute", counted)
        try:
            latest = q.list_slice(conn, rm, "adjustments", key, 3)
        finally:
            event.remove(engine, "before_cursor_execute", counted)
        earlier = q.list_slice(conn, rm, "adjustments", key, 3, before=q.cursor_of(latest.rows[0]))
        again = q.list_slice(conn, rm, "adjustments", key, 3, after=q.cursor_of(earlier.rows[-1]))
    assert len(statements) == 2
    assert (latest.total, latest.later, latest.earlier, len(latest.rows)) == (7, 0, 4, 3)
    assert (earlier.total, earlier.later, earlier.earlier) == (7, 3, 1)
    assert again.rows == latest.rows and again.later == latest.later == 0
