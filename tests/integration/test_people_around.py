"""The agreement page's people in one statement (projections.queries.people_around): the
same manager, names and receivers as the three reads it replaces (the employee's row
for whom they report to, the names of the people shown and of that manager, the
manager's active reports), with any number of ids (more than one chunk of them too)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from infra.bootstrap import Container
from projections import queries as q
from tests.support import Org


def _three_reads(conn: Any, rm: Any, employee_id: str, ids: set[str]) -> q.Around:
    employee = q.people_by_id(conn, rm, [employee_id], ("person_id", "manager_id"))
    manager_id = employee[employee_id]["manager_id"] if employee_id in employee else None
    named = ids | {employee_id} | ({manager_id} if manager_id else set())
    names = {pid: r["display_name"] for pid, r in q.people_by_id(conn, rm, named, q.NAMED).items()}
    reports = (
        [(r["person_id"], r["display_name"]) for r in q.reports_of(conn, rm, manager_id, q.NAMED)]
        if manager_id
        else []
    )
    return q.Around(manager_id, names, reports)


@pytest.mark.parametrize("chunk", [q.CHUNK, 2])
def test_the_people_around_an_employee_are_those_three_reads_found_in_one_statement(
    container: Container, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    container.prepare()
    org = Org(container.app)
    org.active()
    container.projector.catch_up()
    monkeypatch.setattr(q, "CHUNK", chunk)
    engine = container.engines.reader
    statements: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    shown = {org.mate_id, org.stranger_id, org.hr_id, "nobody-in-the-directory"}
    with engine.connect() as conn:
        rm = q.live_read_model(conn)
        for employee, ids in ((org.employee_id, shown), (org.manager_id, set()), ("gone", shown)):
            expected = _three_reads(conn, rm, employee, ids)
            event.listen(engine, "before_cursor_execute", counted)
            try:
                found = q.people_around(conn, rm, employee, ids, reports=True)
                alone = q.people_around(conn, rm, employee, ids, reports=False)
            finally:
                event.remove(engine, "before_cursor_execute", counted)
            assert found == expected, employee
            assert alone == q.Around(expected.manager_id, expected.names, None)
    # One statement each, one more per further chunk of ids (the ids shown and the
    # employee: 5, in chunks of 2: 3 statements; the manager alone: 1).
    assert len(statements) == (2 * (3 + 1 + 3) if chunk == 2 else 6)
