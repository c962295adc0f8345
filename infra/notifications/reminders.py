"""Review reminders: which active agreements' reviews are close or past, from the
read model, planned into the outbox (keyed, so repeating it adds nothing)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select

from infra.notifications.consumer import insert_rows, load_directory, load_preferences
from infra.notifications.planner import DueReview, plan_reminders
from projections.queries import live_read_model


def queue_reminders(
    engine: Engine,
    reader: Engine,
    days_before: int,
    hr_people: frozenset[str] = frozenset(),
    today: date | None = None,
) -> int:
    """Plan the reminders due `today`; the number of messages queued."""
    today = today or datetime.now(UTC).date()
    horizon = date.fromordinal(today.toordinal() + days_before)
    with reader.connect() as conn:
        rm = live_read_model(conn)
        found = conn.execute(
            select(
                rm.agreements.c.agreement_id,
                rm.agreements.c.employee_id,
                rm.agreements.c.next_review_on,
                rm.agreements.c.position,
            ).where(rm.agreements.c.status == "ACTIVE", rm.agreements.c.next_review_on <= horizon)
        ).all()
    if not found:
        return 0
    with engine.begin() as conn:
        directory = load_directory(conn, [], hr_people, also=(r.employee_id for r in found))
        due = [
            DueReview(
                r.agreement_id,
                r.employee_id,
                route.manager_id if (route := directory.people.get(r.employee_id)) else None,
                r.next_review_on,
                r.position,
            )
            for r in found
        ]
        rows = plan_reminders(
            due,
            directory,
            load_preferences(conn, dict.keys(directory.people)),
            today,
            days_before,
            time.time(),
        )
        return insert_rows(conn, rows)
