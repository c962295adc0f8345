"""Where the follower `notifications` starts when first deployed (its position is kept
with every other consumer's, in crafting_follower_positions; its tables are made by the
migrations)."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from infra.followers import positions
from infra.followers.read_models import NAME as PROJECTOR
from infra.notifications.tables import notify_agreements, notify_people
from projections.queries import live_read_model


def start_where_the_read_models_are(engine: Engine, name: str) -> None:
    """First deployment: start at the read models' position, with the routes (who
    manages whom, who owns which agreement) copied from them — nobody is mailed about
    history, and what comes next reaches the people it concerns. Later: nothing."""
    with engine.begin() as conn:
        if positions.read(conn, name) is not None:
            return
        start = positions.read(conn, PROJECTOR) or 0
        rm = live_read_model(conn)
        people = [
            {
                "stream_id": r.stream_id,
                "person_id": r.person_id,
                "manager_id": r.manager_id,
                "active": r.active,
                "erased": r.erased,
            }
            for r in conn.execute(
                select(
                    rm.people.c.stream_id,
                    rm.people.c.person_id,
                    rm.people.c.manager_id,
                    rm.people.c.active,
                    rm.people.c.erased,
                )
            )
        ]
        owners = [
            {"agreement_id": r.agreement_id, "employee_id": r.employee_id}
            for r in conn.execute(select(rm.agreements.c.agreement_id, rm.agreements.c.employee_id))
        ]
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        if people:
            conn.execute(insert(notify_people).on_conflict_do_nothing(), people)
        if owners:
            conn.execute(insert(notify_agreements).on_conflict_do_nothing(), owners)
    positions.ensure(engine, name, start)
