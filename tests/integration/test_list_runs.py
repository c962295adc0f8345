"""A run of one agreement's list (projections.queries.list_slice): the latest run is
read with one statement (its rows carry the list's count), earlier and later runs with
two (and the count of the rows after them); the counts the page's headings show are the
same either way, for an empty list and past either end too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from domain.application import commands as c
from domain.values import AdjustmentDraft, AdjustmentKind
from infra.bootstrap import Container
from projections import queries as q
from tests.readmodel import executed_statements
from tests.support import Org


def test_the_latest_run_of_a_list_costs_one_statement_and_counts_as_the_others(
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
            assert len(statements) == 1
            earlier = q.list_slice(
                conn, rm, "adjustments", key, 3, before=q.cursor_of(latest.rows[0])
            )
            assert len(statements) == 3
        finally:
            event.remove(engine, "before_cursor_execute", counted)
        again = q.list_slice(conn, rm, "adjustments", key, 3, after=q.cursor_of(earlier.rows[-1]))
        # Past either end, and a list with nothing in it: the counts all the same.
        first = q.cursor_of(q.list_slice(conn, rm, "adjustments", key, 7, after=(0, 0)).rows[0])
        past_first = q.list_slice(conn, rm, "adjustments", key, 3, before=first)
        past_last = q.list_slice(
            conn, rm, "adjustments", key, 3, after=q.cursor_of(latest.rows[-1])
        )
        empty = q.list_slice(conn, rm, "artifacts", key, 3)
    assert (past_first.rows, past_first.total, past_first.later) == ([], 7, 7)
    assert (past_last.rows, past_last.total, past_last.later) == ([], 7, 0)
    assert (empty.rows, empty.total, empty.later) == ([], 0, 0)
    assert all(set(row) == set(rm.adjustments.c.keys()) for row in latest.rows)  # no count
    assert (latest.total, latest.later, latest.earlier, len(latest.rows)) == (7, 0, 4, 3)
    assert (earlier.total, earlier.later, earlier.earlier) == (7, 3, 1)
    assert again.rows == latest.rows and again.later == latest.later == 0


def test_the_latest_run_is_built_once_and_reads_each_agreements_own_rows(
    container: Container,
) -> None:
    # The agreement page asks for five latest runs per request: the statement is built
    # once per list and length (its agreement a parameter), not per request.
    container.prepare()
    org = Org(container.app)
    agreements = [org.active(), org.active()]
    for n, agreement in enumerate(agreements):
        for i in range(n + 2):
            org.run(
                org.manager,
                c.AddAdjustment(
                    agreement_id=agreement.id,
                    adjustment=AdjustmentDraft(AdjustmentKind.COGNITIVE, f"A{n} {i}", 0),
                ),
            )
    container.projector.catch_up()
    engine = container.engines.reader
    executed: list[Any] = []

    with engine.connect() as conn:
        rm = q.live_read_model(conn)
        with executed_statements(engine, executed):
            runs = [q.list_slice(conn, rm, "adjustments", str(a.id), 3) for a in agreements]
            runs += [q.list_slice(conn, rm, "adjustments", str(a.id), 3) for a in agreements]
        # Every row and count as a run read by its own earlier runs' statements.
        for run, agreement in zip(runs, agreements * 2, strict=True):
            assert {r["agreement_id"] for r in run.rows} == {str(agreement.id)}
            every = q.list_slice(conn, rm, "adjustments", str(agreement.id), 9, after=(0, 0))
            assert run.rows == every.rows[-3:] and run.total == every.total
    assert [run.total for run in runs] == [3, 4, 3, 4]  # the approval's adjustment too
    assert len(executed) == 4 and len({id(clause) for clause in executed}) == 1
