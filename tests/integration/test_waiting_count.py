"""The header's count (projections.inbox.waiting): proposals awaiting a decision and
reviews due, each list counted as it lists them, up to the cap — its statement built once
per kind of viewer, the values named parameters (every signed-in page reads it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from infra.bootstrap import Container
from projections import inbox
from projections import queries as q
from tests.readmodel import executed_statements
from tests.support import Org


def _listed(conn: Any, rm: Any, viewer: q.ReadScope, manager_id: str | None, due: Any) -> int:
    # What the two lists show, each read on its own (the count must agree with them).
    lists = (
        q.AgreementCriteria(status="PROPOSED", manager_id=manager_id),
        inbox.reviews_due(manager_id, due),
    )
    return sum(len(q.list_agreements(conn, rm, viewer, where, 50, None)) for where in lists)


def test_the_count_is_the_lists_and_its_statement_is_built_once(container: Container) -> None:
    container.prepare()
    org, other = Org(container.app), Org(container.app)
    for _ in range(3):
        org.propose()
    org.active()
    org.active()
    other.propose()
    container.projector.catch_up()
    due = datetime.now(UTC).date() + timedelta(days=400)  # every active one is due by then
    viewers = [
        (q.ReadScope(org.manager_id, False, True), org.manager_id, 5),
        (q.ReadScope(other.manager_id, False, True), other.manager_id, 1),
        (q.ReadScope(org.employee_id, False, False), org.employee_id, 0),
    ]
    engine = container.engines.reader
    executed: list[Any] = []

    with engine.connect() as conn:
        rm = q.live_read_model(conn)
        for viewer, manager_id, expected in viewers * 2:
            assert _listed(conn, rm, viewer, manager_id, due) == expected
            with executed_statements(engine, executed):
                assert inbox.waiting(conn, rm, viewer, manager_id, due, 50) == expected
                assert inbox.waiting(conn, rm, viewer, manager_id, due, 2) == min(expected, 2)
        # HR: everyone's (the other tests' agreements too), counted as listed.
        hr = q.ReadScope(org.hr_id, True, False)
        everyone = _listed(conn, rm, hr, None, due)
        assert inbox.waiting(conn, rm, hr, None, due, 10_000) == everyone >= 6
    # Managers and an employee are two kinds of viewer: two statements, each reused.
    assert len(executed) == 12 and len({id(clause) for clause in executed}) == 2
