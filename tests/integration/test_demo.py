"""`crafting demo` loads a realistic organisation that projects cleanly."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from api.cli.demo import load_demo
from domain.sealing import opened_in
from infra.bootstrap import Container
from projections.inbox import inbox
from projections.queries import ReadScope, live_read_model


def test_the_demo_covers_every_stage_and_starts_with_the_seed_story(container: Container) -> None:
    container.prepare()
    created = load_demo(container.app, say=lambda _: None)
    assert created >= 24
    assert load_demo(container.app, say=lambda _: None) == 0  # loading twice adds nothing
    container.projector.catch_up()
    with container.engines.reader.connect() as conn:
        rm = live_read_model(conn)
        # The read models hold personal texts sealed; readers open them (api.ports).
        rows = opened_in(
            [dict(r) for r in conn.execute(select(rm.agreements)).mappings()], container.keys
        )
        statuses = {r["status"] for r in rows}
        assert statuses == {
            "PROPOSED",
            "CHANGES_REQUESTED",
            "ACTIVE",
            "PAUSED",
            "COMPLETED",
            "REJECTED",
            "WITHDRAWN",
        }
        story = [
            r
            for r in rows
            if r["employee_id"] == "sam-tester"
            and r["title"] == "From testing toward product management"
        ]
        assert len(story) == 1
        assert story[0]["development_hours"] == 4
        # The story starts with something for the manager to do: the tester's next
        # step, in the manager's inbox to approve.
        awaiting = inbox(conn, rm, ReadScope("mgr-qa", False, True), "mgr-qa", date.today(), 50)
        assert [
            (r["employee_id"], r["title"])
            for r in opened_in(awaiting["awaiting"], container.keys)
            if r["employee_id"] == "sam-tester"
        ] == [("sam-tester", "Own the discovery for bulk export v2")]
        reverted = conn.execute(
            select(rm.reallocations).where(rm.reallocations.c.status == "REVERTED")
        ).all()
        assert reverted, "the demo includes reverts"
