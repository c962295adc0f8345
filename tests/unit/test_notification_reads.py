"""The notification consumer reads the routes and preferences a batch needs, not the
whole organisation's, and plans exactly what a read of everything would have planned;
the webhook planner reads the teams a batch needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, event, insert, select

from domain.application import CraftingApplication
from domain.application import commands as c
from domain.person import Profile
from domain.values import AdjustmentDraft, AdjustmentKind, CareerGoal, Guardrails, Role
from infra.notifications import consumer as consumer_module
from infra.notifications.consumer import NotificationConsumer, load_directory, save_directory
from infra.notifications.kinds import Kind, Mode
from infra.notifications.planner import Directory, Preferences, Route, plan
from infra.notifications.tables import (
    digest_times,
    notify_agreements,
    notify_metadata,
    notify_people,
    outbox,
    preferences,
)
from infra.webhooks import planner as planner_module
from infra.webhooks.planner import WebhookPlanner, _Batch
from infra.webhooks.tables import person_teams, webhook_metadata
from tests.notifications.story import Story
from tests.support import request

OTHERS = 2_000  # people the batches never concern


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    notify_metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(notify_people),
            [
                {
                    "stream_id": f"s-{i}",
                    "person_id": f"other-{i}",
                    "manager_id": f"other-{i // 10}",
                    "active": True,
                    "erased": False,
                }
                for i in range(OTHERS)
            ],
        )
        connection.execute(
            insert(preferences),
            [
                {"person_id": f"other-{i}", "kind": "DECISION_MADE", "mode": "OFF"}
                for i in range(OTHERS)
            ],
        )
        yield connection


def _story(app: CraftingApplication) -> Story:
    """Every kind of route change and message: proposals, decisions, reallocations,
    a manager leaving and coming back, a new manager, HR acting, a legal hold."""
    story = Story(app)
    aid = story.propose()
    story.run(story.as_priya, c.RequestChanges(agreement_id=aid, reason="More detail"))
    story.revise(aid)
    story.approve(aid)
    story.hand_over_triage(aid)
    gone = Profile("Priya Raman", f"{story.priya}@example.com", None, None, 40, False)
    story.run(story.as_hr, c.UpsertPeople(people=[c.DirectoryEntry(story.priya, gone)]))
    story.run(story.as_hr, c.PauseAgreement(agreement_id=aid, reason="Audit week"))
    back = Profile("Priya Raman", f"{story.priya}@example.com", None, None, 40, True)
    story.run(story.as_hr, c.UpsertPeople(people=[c.DirectoryEntry(story.priya, back)]))
    story.run(story.as_hr, c.ResumeAgreement(agreement_id=aid))
    story.run(story.as_hr, c.PlaceLegalHold(person_id=story.sam, reason="Litigation"))
    second = story.propose()
    story.run(
        story.as_hr, c.ApproveAgreement(agreement_id=second, guardrails=Guardrails(6, (), 14))
    )
    moved = Profile("Sam Tester", f"{story.sam}@example.com", story.lena, None, 40, True)
    story.run(story.as_hr, c.UpsertPeople(people=[c.DirectoryEntry(story.sam, moved)]))
    story.run(story.as_hr, c.PauseAgreement(agreement_id=second, reason="New manager"))
    return story


def _events(app: CraftingApplication) -> list[tuple[int, Any]]:
    return [
        (n.id, app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(1, 1000)
    ]


def _everything(conn: Connection, hr: frozenset[str]) -> tuple[Directory, Preferences]:
    """The directory and preferences as the consumer read them before: every row."""
    directory = Directory(hr_people=hr)
    for row in conn.execute(select(notify_people)):
        directory.streams[row.stream_id] = row.person_id
        directory.people[row.person_id] = Route(
            row.person_id, row.manager_id, row.active, row.erased
        )
    for row in conn.execute(select(notify_agreements)):
        directory.owners[row.agreement_id] = row.employee_id
    modes = {(r.person_id, r.kind): Mode(r.mode) for r in conn.execute(select(preferences))}
    times = {r.person_id: (r.hour, r.time_zone) for r in conn.execute(select(digest_times))}
    return directory, Preferences(modes, times)


def _state(conn: Connection) -> list[list[Any]]:
    return [
        sorted(tuple(row) for row in conn.execute(select(table)))
        for table in (notify_people, notify_agreements)
    ]


@pytest.mark.parametrize("batch", [1, 2, 5, 1000])
def test_reading_what_a_batch_needs_plans_what_reading_everything_did(
    memory_app: CraftingApplication, conn: Connection, batch: int
) -> None:
    story = _story(memory_app)
    hr = frozenset({story.hr_id})
    conn.execute(
        insert(preferences),
        [{"person_id": story.sam, "kind": Kind.DECISION_MADE.value, "mode": "DAILY"}],
    )
    conn.execute(insert(digest_times), [{"person_id": story.sam, "hour": 9, "time_zone": "UTC"}])
    events = _events(memory_app)
    before = conn.begin_nested()  # the same batches, planned by reading everything
    expected = []
    for start in range(0, len(events), batch):
        directory, told = _everything(conn, hr)
        expected += plan(events[start : start + batch], directory, told, 0.0)
        save_directory(conn, directory)
    expected_state = _state(conn)
    before.rollback()

    consumer = NotificationConsumer(hr)
    for start in range(0, len(events), batch):
        consumer.handle(conn, events[start : start + batch])
    planned = conn.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
    keys = ("message_key", "kind", "recipient_id", "delivery", "subject_person_id")
    assert [tuple(r[k] for k in keys) for r in planned] == [
        tuple(r[k] for k in keys) for r in expected
    ]
    assert len(expected) >= 8
    assert _state(conn) == expected_state


def test_a_command_reads_the_routes_of_the_people_it_concerns_only(
    memory_app: CraftingApplication, conn: Connection
) -> None:
    story = _story(memory_app)
    events = _events(memory_app)
    NotificationConsumer(frozenset({story.hr_id})).handle(conn, events[:-1])
    directory = load_directory(conn, events[-1:], frozenset({story.hr_id}))
    read = dict(directory.people)  # what was read, without asking for more
    assert len(read) <= 5, sorted(read)  # it was every one of the 2,000+ people


def test_a_webhook_batch_reads_the_teams_of_the_people_it_concerns_only(
    memory_app: CraftingApplication,
) -> None:
    engine = create_engine("sqlite://")
    webhook_metadata.create_all(engine)
    story = _story(memory_app)
    events = _events(memory_app)
    with engine.begin() as conn:
        others = [
            {"stream_id": f"s-{i}", "person_id": f"other-{i}", "team_id": "t"}
            for i in range(OTHERS)
        ]
        conn.execute(insert(person_teams), others)
        WebhookPlanner().handle(conn, events[:-1])
        batch = _Batch(conn, 0.0)
        batch.plan(events[-1:])  # HR pauses Sam's second agreement
        assert dict(batch.teams) == {story.sam: None}  # it read all 2,000+ people's teams


def test_a_person_read_with_their_stream_is_not_read_again(
    memory_app: CraftingApplication, conn: Connection
) -> None:
    """A directory event names its person's stream; the row found for it is the
    person's route too, so planning reads that row once, not a second time by person."""
    story = _story(memory_app)
    hr = frozenset({story.hr_id})
    events = _events(memory_app)
    NotificationConsumer(hr).handle(conn, events[:-2])
    # Sam's new manager (a directory event of a known person), then HR pausing Sam's
    # agreement: Sam is named twice, by the stream and as the agreement's owner.
    moved = events[-2:]
    assert [e.__class__.__name__ for _, e in moved] == ["ProfileChanged", "Paused"], moved
    asked: list[list[str]] = []
    original = consumer_module._routes_of

    def counted(connection: Connection, person_ids: list[str]) -> dict[str, Route]:
        asked.append(person_ids)
        return original(connection, person_ids)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(consumer_module, "_routes_of", counted)
        load_directory(conn, moved, hr)
    assert all(story.sam not in ids for ids in asked), asked


def test_a_webhook_batch_reads_the_teams_of_its_new_agreements_owners_in_one_statement(
    memory_app: CraftingApplication,
) -> None:
    """Under load a batch holds many proposals: their owners' teams are read with the
    batch's other routes, not one statement per proposal."""
    engine = create_engine("sqlite://")
    webhook_metadata.create_all(engine)
    story = Story(memory_app)
    events = _events(memory_app)
    proposed = c.ProposeAgreement(
        title="From testing toward product management",
        career_goal=CareerGoal("Product manager", ("customer research",)),
        adjustments=[AdjustmentDraft(AdjustmentKind.TASK, "Write one feature brief", 2)],
    )
    owners = [story.sam, story.lena, story.priya]
    for person in owners:
        story.run(request(person, Role.EMPLOYEE), proposed)
    proposals = _events(memory_app)[len(events) :]
    assert len(proposals) == 3
    with engine.begin() as conn:
        WebhookPlanner().handle(conn, events)  # the directory: the people's teams
        asked: list[list[str]] = []
        original = planner_module.teams_of

        def counted(connection: Connection, person_ids: list[str]) -> dict[str, str | None]:
            asked.append(person_ids)
            return original(connection, person_ids)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(planner_module, "teams_of", counted)
            batch = _Batch(conn, 0.0)
            batch.plan(proposals)
        assert asked == [sorted(owners)], asked  # was a statement per proposal
        assert len(batch.queued) == 0  # no subscription: nothing queued, routes kept


def test_the_notifications_are_queued_by_one_statement_whatever_the_batch_holds(
    memory_app: CraftingApplication, conn: Connection
) -> None:
    """One executemany of one statement text (prepared once, and within psycopg's cache
    of parsed statements), not a multi-row INSERT written anew for each number of rows."""
    story = _story(memory_app)
    events = _events(memory_app)
    queued: list[tuple[str, bool, int]] = []

    def seen(_c: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CRAFTING_NOTIFY_OUTBOX"):
            queued.append((statement, many, len(params) if many else 1))

    event.listen(conn.engine, "before_cursor_execute", seen)
    try:
        consumer = NotificationConsumer(frozenset({story.hr_id}))
        for start in range(0, len(events), 6):
            consumer.handle(conn, events[start : start + 6])
    finally:
        event.remove(conn.engine, "before_cursor_execute", seen)
    assert len({statement for statement, _, _ in queued}) == 1, queued
    assert "RETURNING" not in queued[0][0].upper()
    rows = conn.execute(select(outbox)).all()
    assert sum(n for _, _, n in queued) == len(rows)
    assert len({n for _, _, n in queued}) >= 2  # batches of different numbers of rows
