"""The planner as a pure function: events, routes and preferences in, outbox rows out."""

from __future__ import annotations

from typing import Any

from api.cli.main import public_url_of
from domain.application import CraftingApplication
from domain.application import commands as c
from domain.person import Profile
from domain.values import Guardrails
from infra.notifications.kinds import Kind, Mode
from infra.notifications.planner import Directory, Preferences, plan
from tests.notifications.story import Story


def _events(app: CraftingApplication, after: int = 0) -> list[tuple[int, Any]]:
    return [
        (n.id, app.mapper.to_domain_event(n))
        for n in app.recorder.select_notifications(after + 1, 1000)
    ]


def _told(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["event_type"], r["recipient_id"]) for r in rows]


def test_each_event_tells_the_people_it_concerns_and_never_its_actor(
    memory_app: CraftingApplication,
) -> None:
    story = Story(memory_app)
    aid = story.propose()
    story.run(story.as_priya, c.RequestChanges(agreement_id=aid, reason="More detail"))
    story.revise(aid)
    story.approve(aid)
    story.hand_over_triage(aid)
    story.run(story.as_hr, c.PauseAgreement(agreement_id=aid, reason="Audit week"))  # HR acts
    directory = Directory()
    rows = plan(_events(memory_app), directory, Preferences(), 0.0)
    assert _told(rows) == [
        ("Proposed", story.priya),
        ("ChangesRequested", story.sam),
        ("ProposalRevised", story.priya),
        ("Approved", story.sam),
        ("TaskReallocated", story.lena),
        ("TaskReallocated", story.sam),
        ("Paused", story.sam),
        ("Paused", story.priya),  # HR acted: the manager hears of it too
    ]
    assert all(r["agreement_id"] == str(aid) for r in rows)
    assert len({r["message_key"] for r in rows}) == len(rows)


def test_the_actor_is_never_told_of_their_own_act(
    memory_app: CraftingApplication,
) -> None:
    story = Story(memory_app)
    aid = story.propose()
    story.approve(aid)
    start = memory_app.recorder.max_notification_id() or 0
    story.run(story.as_priya, c.PauseAgreement(agreement_id=aid, reason="Crunch"))
    story.run(story.as_priya, c.ResumeAgreement(agreement_id=aid))
    story.run(  # Priya hands over a task of her own: she gives it, and is not told
        story.as_priya,
        c.ReallocateTask(
            agreement_id=aid,
            task="Release notes",
            hours_per_week=1,
            to_person_id=story.lena,
            from_person_id=story.priya,
            reason="Time",
        ),
    )
    directory = Directory()
    plan(_events(memory_app)[:start], directory, Preferences(), 0.0)
    rows = plan(_events(memory_app, start), directory, Preferences(), 0.0)
    assert _told(rows) == [
        ("Paused", story.sam),
        ("Resumed", story.sam),
        ("TaskReallocated", story.lena),
    ]


def test_inactive_people_and_turned_off_kinds_get_nothing_and_digests_wait(
    memory_app: CraftingApplication,
) -> None:
    story = Story(memory_app)
    gone = Profile("Priya Raman", f"{story.priya}@example.com", None, None, 40, False)
    story.run(story.as_hr, c.UpsertPeople(people=[c.DirectoryEntry(story.priya, gone)]))
    aid = story.propose()
    rows = plan(_events(memory_app), Directory(), Preferences(), 0.0)
    assert rows == []  # Priya left: nobody to tell about the proposal
    story.run(story.as_hr, c.ApproveAgreement(agreement_id=aid, guardrails=Guardrails(6, (), 14)))
    off = Preferences({(story.sam, Kind.DECISION_MADE.value): Mode.OFF})
    assert plan(_events(memory_app), Directory(), off, 0.0) == []
    daily = Preferences(
        {(story.sam, Kind.DECISION_MADE.value): Mode.DAILY}, {story.sam: (9, "UTC")}
    )
    (row,) = plan(_events(memory_app), Directory(), daily, 0.0)
    assert row["delivery"] == "DIGEST" and row["next_attempt_at"] == 9 * 3600


def test_hr_is_told_of_legal_holds(memory_app: CraftingApplication) -> None:
    story = Story(memory_app)
    story.run(story.as_hr, c.PlaceLegalHold(person_id=story.sam, reason="Litigation"))
    hr = Directory(hr_people=frozenset({story.hr_id, story.priya}))
    rows = plan(_events(memory_app), hr, Preferences(), 0.0)
    # The HR person who placed it is not told of their own act.
    assert _told(rows) == [("LegalHoldPlaced", story.priya)]


def test_the_public_url_follows_the_bind() -> None:
    assert public_url_of("127.0.0.1", 8080) == "http://127.0.0.1:8080"
    assert public_url_of("::1", 8000) == "http://[::1]:8000"
    assert public_url_of("0.0.0.0", 8000).startswith("http://")
    assert "0.0.0.0" not in public_url_of("0.0.0.0", 8000)
