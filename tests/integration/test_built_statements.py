"""The reads every page runs (projections.queries: agreements, children and people by
id, an agreement's children) are built once per read-model table and shape, their values
named parameters: asked again with other values, the same statement runs and answers for
those values."""

from __future__ import annotations

from typing import Any

from domain.values import AdjustmentDraft, AdjustmentKind
from infra.bootstrap import Container
from projections import queries as q
from tests.readmodel import executed_statements
from tests.support import Org


def test_each_read_is_built_once_and_answers_for_its_values(container: Container) -> None:
    container.prepare()
    org = Org(container.app)
    first = org.active(AdjustmentDraft(AdjustmentKind.COGNITIVE, "First", 0))
    second = org.active(AdjustmentDraft(AdjustmentKind.RELATIONAL, "Second", 0))
    container.projector.catch_up()
    engine = container.engines.reader
    executed: list[Any] = []

    manager = q.ReadScope(org.manager_id, False, True)
    stranger = q.ReadScope(org.stranger_id, False, False)
    hr = q.ReadScope(org.hr_id, True, False)
    answers = []
    with engine.connect() as conn:
        rm = q.live_read_model(conn)
        with executed_statements(engine, executed):
            for agreement in (first, second):
                key = str(agreement.id)
                kids = q.children(conn, rm, "adjustments", [key])[key]
                by_id = q.children_by_id(
                    conn, rm, "adjustments", key, [r["adjustment_id"] for r in kids]
                )
                answers.append(
                    (
                        set(q.agreements_by_id(conn, rm, manager, [key, "nothing"])),
                        set(q.agreements_by_id(conn, rm, stranger, [key])),
                        set(q.agreements_by_id(conn, rm, hr, [key])),
                        [r["adjustment_id"] for r in kids],
                        {r["agreement_id"] for r in by_id.values()},
                        q.people_by_id(conn, rm, [org.employee_id, "nobody"], q.NAMED),
                    )
                )
    for agreement, answer in zip((first, second), answers, strict=True):
        key = str(agreement.id)
        assert answer[:3] == ({key}, set(), {key})  # the viewer's kind decides
        assert len(answer[3]) == 1 and answer[4] == {key}
        assert list(answer[5]) == [org.employee_id]  # the name as read: sealed
        assert set(answer[5][org.employee_id]) == {"person_id", "display_name"}
    assert [a[3] for a in answers] != [answers[0][3]] * 2  # each agreement its own rows
    # Six reads per agreement, twice: six statements, each run twice.
    assert len(executed) == 12 and len({id(clause) for clause in executed}) == 6
