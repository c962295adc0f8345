"""The write model at any version or instant, and old event shapes read through upcasters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import uuid4

import eventsourcing.application
import eventsourcing.domain
import pytest
from eventsourcing.application import LRUCache, Repository
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.agreement import CHILD_LIMITS, Agreement
from domain.agreement import snapshot as snapshot_module
from domain.agreement.events import Proposed
from domain.agreement.snapshot import snapshot_step, takes_snapshot_at
from domain.application import CraftingApplication
from domain.application import commands as c
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.values import AgreementStatus, CareerGoal
from tests.support import Checked, CountingChecks, Org, draft


def test_agreement_at_a_version_and_at_an_instant(org: Org) -> None:
    agreement = org.active()
    before_pause = datetime.now(UTC)
    org.run(org.manager, c.PauseAgreement(agreement_id=agreement.id, reason="Crunch"))
    at_v1 = org.app.agreement_at(org.auditor.actor, agreement.id, version=1)
    assert at_v1.status is AgreementStatus.PROPOSED and at_v1.version == 1
    then = org.app.agreement_at(org.auditor.actor, agreement.id, at=before_pause)
    assert then.status is AgreementStatus.ACTIVE and then.version == agreement.version
    with pytest.raises(NotFound):
        org.app.agreement_at(org.auditor.actor, agreement.id, at=before_pause - timedelta(days=1))
    with pytest.raises(InvalidInput):
        org.app.agreement_at(org.auditor.actor, agreement.id, version=99)
    with pytest.raises(InvalidInput):
        org.app.agreement_at(org.auditor.actor, agreement.id, at=datetime(2026, 1, 1))


def test_time_travel_is_authorized_like_any_read(org: Org) -> None:
    agreement = org.active()
    with pytest.raises(Forbidden):
        org.app.agreement_at(org.stranger.actor, agreement.id, version=1)
    assert org.app.agreement_at(org.manager.actor, agreement.id, version=1).version == 1


def test_a_first_release_proposal_is_read_through_its_upcaster(
    memory_app: CraftingApplication,
) -> None:
    # The first release stored targetRole and skills flat on the event.
    agreement_id = uuid4()
    v1_state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-05T09:00:00+00:00"},
        "originator_topic": get_topic(Agreement),
        "actor_id": "emp-1",
        "actor_role": "EMPLOYEE",
        "reason": None,
        "correlation_id": "c-1",
        "idempotency_key": None,
        "employee_id": "emp-1",
        "title": "Tester to PM",
        "target_role": "Product manager",
        "skills": ["research"],
        "adjustments": [],
    }
    memory_app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=agreement_id,
                originator_version=1,
                topic=get_topic(Proposed),
                state=json.dumps(v1_state).encode(),
            )
        ]
    )
    agreement: Agreement = memory_app.repository.get(agreement_id)
    assert agreement.career_goal == CareerGoal("Product manager", ("research",), None)
    assert agreement.title == "Tester to PM"
    assert Proposed.class_version == 2


def test_current_events_are_stored_with_their_class_version(org: Org) -> None:
    agreement = org.propose(draft(1))
    (stored,) = org.app.recorder.select_events(agreement.id)
    assert json.loads(stored.state)["class_version"] == 2


def test_long_histories_use_snapshots_and_find_any_instant(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CHILD_LIMITS, "reviews", 1000)  # longer than allowed, on purpose
    agreement = org.active()
    for n in range(230):
        org.run(
            org.manager,
            c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes=f"check-in {n}"),
        )
    snapshots = [s.originator_version for s in org.app.snapshots.get(agreement.id)]
    assert snapshots == [100, 200]
    events = org.app.history(agreement.id)
    for version in (1, 2, 99, 100, 101, 150, 200, 232):
        at = events[version - 1].timestamp
        then = org.app.agreement_at(org.auditor.actor, agreement.id, at=at)
        assert then.version == version
        assert len(then.reviews) == max(0, version - 2)
        assert then == org.app.agreement_at(org.auditor.actor, agreement.id, version=version)


def test_snapshots_are_taken_every_100_events_however_long_the_history() -> None:
    """A snapshot holds a bounded tail (the rest is in chunks stored once), so the step
    stays 100: time travel replays at most 99 events after the nearest snapshot at
    50,000 events as at 500 (the step used to double past 8,000: 1,600 at 100,000)."""
    assert {snapshot_step(v) for v in (1, 100, 8_000, 50_000, 100_000, 10**7)} == {100}
    taken = [v for v in range(1, 100_001) if takes_snapshot_at(v)]
    assert taken == list(range(100, 100_001, 100))
    around = [v for v in range(49_000, 51_001) if takes_snapshot_at(v)]
    assert all(b - a == 100 for a, b in pairwise(around)) and len(around) == 21


def test_a_long_agreement_is_snapshotted_at_every_step_and_travels_alike(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CHILD_LIMITS, "reviews", 1000)  # longer than allowed, on purpose
    # Scaled down (a step of 10) so that the test stays short.
    monkeypatch.setattr(snapshot_module, "SNAPSHOT_EVERY", 10)
    agreement = org.active()
    for n in range(128):
        org.run(
            org.manager,
            c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes=f"check-in {n}"),
        )
    snapshots = [s.originator_version for s in org.app.snapshots.get(agreement.id)]
    assert snapshots == list(range(10, 131, 10))
    replay = Repository(org.app.events)  # no snapshots: the whole history
    for version in (35, 79, 81, 120, 130):
        then = org.app.agreement_at(org.auditor.actor, agreement.id, version=version)
        assert then == replay.get(agreement.id, version=version)
    latest = org.app.repository.get(agreement.id)
    assert latest.version == 130 and len(latest.reviews) == 128


def test_replaying_skips_the_librarys_per_event_protocol_check(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check cost more than applying the event (domain.application.replay): time
    travel, snapshots and loads replay without it, and to the same state."""
    monkeypatch.setattr(eventsourcing.application, "CanMutateProtocol", Checked)
    CountingChecks.calls = 0
    agreement = org.active()
    for n in range(5):
        org.run(
            org.manager, c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes=f"{n}")
        )
    then = org.app.agreement_at(org.auditor.actor, agreement.id, version=4)
    org.app.take_snapshot(agreement.id, version=6)
    loaded = org.app.repository.get(agreement.id, deepcopy_from_cache=False)
    assert CountingChecks.calls == 0
    replay = Repository(org.app.events)  # the library's own, with the check
    assert then == replay.get(agreement.id, version=4)
    assert loaded == replay.get(agreement.id)
    assert CountingChecks.calls > 0


def test_the_repository_keeps_the_librarys_settings() -> None:
    settings = {"PERSISTENCE_MODULE": "eventsourcing.popo", "AGGREGATE_CACHE_MAXSIZE": "7"}
    for fastforward in ("y", "n"):
        app = CraftingApplication(env={**settings, "AGGREGATE_CACHE_FASTFORWARD": fastforward})
        try:
            assert isinstance(app.repository.cache, LRUCache)
            assert app.repository.cache.maxsize == 7
            assert app.repository.fastforward is (fastforward == "y")
            assert app.repository.deepcopy_from_cache is True
        finally:
            app.close()
    app = CraftingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        assert app.repository.cache is None
    finally:
        app.close()


def _instants_around(stamps: list[datetime]) -> list[datetime]:
    """Every event's own instant, a microsecond either side, before the first and
    after the last."""
    tick = timedelta(microseconds=1)
    around = {s + d for s in stamps for d in (-tick, timedelta(0), tick)}
    return sorted(around | {stamps[0] - timedelta(days=1), stamps[-1] + timedelta(days=1)})


def _version_by_decoding(events: list[Any], at: datetime) -> int | None:
    """The reference: the last version at or before `at`, every event decoded."""
    return max((e.originator_version for e in events if e.timestamp <= at), default=None)


def test_an_instant_is_found_from_the_stored_timestamps_alone(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The binary search reads each probed event's timestamp from its stored JSON and
    decodes no event: a lookup by instant decodes exactly what the lookup at its version
    does. Its answers equal a scan over the fully decoded events, with several events
    sharing one timestamp (a coarse clock) and instants exactly at, just before and just
    after each event, before the first and after the last."""
    monkeypatch.setitem(CHILD_LIMITS, "reviews", 1000)  # longer than allowed, on purpose
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    ticks = iter(range(10**6))

    def coarse_clock() -> datetime:
        # Stands still for three events at a time; every other second whole, so that
        # isoformat leaves the microseconds out of some stamps (a shorter stored form).
        second = next(ticks) // 3
        return start + timedelta(seconds=second, microseconds=500 * (second % 2))

    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", coarse_clock)
    agreement = org.active()
    for n in range(140):
        org.run(
            org.manager,
            c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes=f"check-in {n}"),
        )
    events = org.app.history(agreement.id)
    stamps = [e.timestamp for e in events]
    assert len(set(stamps)) < len(stamps)  # some events share their timestamp
    assert {s.microsecond for s in stamps} == {0, 500}
    latest = len(events)
    for fan in (1, 2, 3, 15, 200):  # versions probed per read (PostgreSQL: 15)
        org.app.set_stored_states(org.app._read_states, fan)
        for at in _instants_around(stamps):
            found = org.app._version_at(agreement.id, at, latest)
            assert found == _version_by_decoding(events, at), (fan, at)
    org.app.set_stored_states(org.app._read_states)
    decoded: list[int] = []
    mapper = org.app.mapper  # the events' and the snapshots' (and their chunks')
    decode = mapper.to_domain_event

    def counted(stored: StoredEvent) -> Any:
        decoded.append(stored.originator_version)
        return decode(stored)

    monkeypatch.setattr(mapper, "to_domain_event", counted)
    at = stamps[120]
    by_instant = org.app.agreement_at(org.auditor.actor, agreement.id, at=at)
    by_instant_decoded, decoded[:] = list(decoded), []
    by_version = org.app.agreement_at(org.auditor.actor, agreement.id, version=by_instant.version)
    assert by_instant == by_version and by_instant.version == _version_by_decoding(events, at)
    assert by_instant_decoded == decoded  # the search decoded no event
