"""The same write-side suite on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import eventsourcing.domain
import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.agreement import Agreement
from domain.agreement.events import Proposed
from domain.application import commands as c
from domain.values import AgreementStatus, CareerGoal, ChangeStatus
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from infra.signing import new_private_key
from tests.support import Org, draft, event_types, guardrails


def test_a_whole_agreement_lifecycle_is_recorded_and_replayed(container: Container) -> None:
    org = Org(container.app)
    agreement = org.active(draft(2))
    aid = agreement.id
    org.run(org.manager, c.AddAdjustment(agreement_id=aid, adjustment=draft(1)))
    moved = org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=aid,
            task="Smoke tests",
            hours_per_week=2,
            to_person_id=org.mate_id,
            reason="Two hours a week for customer research",
        ),
    )
    change = next(iter(moved.reallocations.values())).change_id
    org.run(org.manager, c.RevertChange(agreement_id=aid, change_id=change, reason="Mate busy"))
    org.run(org.manager, c.RecordReview(agreement_id=aid, outcome="ON_TRACK", notes="Good"))
    org.run(
        org.employee,
        c.RecordArtifact(agreement_id=aid, title="Feature brief", kind="BRIEF", skills=["writing"]),
    )
    done = org.run(org.manager, c.CompleteAgreement(agreement_id=aid))
    assert done.status is AgreementStatus.COMPLETED
    assert event_types(container.app, aid) == [
        "Proposed",
        "Approved",
        "AdjustmentAdded",
        "TaskReallocated",
        "ChangeReverted",
        "ReviewRecorded",
        "ArtifactRecorded",
        "Completed",
    ]
    replayed: Agreement = container.app.repository.get(aid)
    assert replayed.reallocations == done.reallocations
    assert replayed.adjustments == done.adjustments
    assert next(iter(replayed.reallocations.values())).status is ChangeStatus.REVERTED
    notifications = container.app.recorder.select_notifications(1, 1000)
    ids = [n.id for n in notifications]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_idempotency_keys_survive_a_restart(container: Container) -> None:
    org = Org(container.app)
    agreement = org.active()
    command = c.PauseAgreement(
        agreement_id=agreement.id, reason="Crunch", idempotency_key="pause-1"
    )
    first = container.app.execute(org.manager, command)
    head = container.app.recorder.max_notification_id()  # the key's record is the last
    settings = container.settings
    container.close()
    restarted = bootstrap(settings)
    try:
        again = restarted.app.execute(org.manager, command)
        assert again.replayed
        assert again.position == first.position
        assert again.agreement is not None and again.agreement.version == agreement.version + 1
        assert restarted.app.recorder.max_notification_id() == head  # nothing recorded
    finally:
        restarted.close()


def test_time_travel_on_the_database(container: Container) -> None:
    org = Org(container.app)
    agreement = org.active()
    instant = datetime.now(UTC)
    org.run(org.manager, c.SetGuardrails(agreement_id=agreement.id, guardrails=guardrails(9)))
    then = container.app.agreement_at(org.auditor.actor, agreement.id, at=instant)
    assert then.guardrails == guardrails()
    assert (
        container.app.agreement_at(org.auditor.actor, agreement.id, version=1).status
        is AgreementStatus.PROPOSED
    )


@pytest.mark.parametrize("stored_as", ["JSON", "compressed and encrypted"])
def test_an_instant_is_found_from_the_stored_timestamps_as_by_decoding(
    database_url: str, stored_as: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search by instant reads the stored events' timestamps (domain.application.
    CraftingApplication.recorded_at), also when the store compresses and encrypts them,
    and finds what a scan of the decoded events finds, events sharing a timestamp too."""
    if stored_as != "JSON":
        monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")
        monkeypatch.setenv("CIPHER_TOPIC", "eventsourcing.cryptography:AESCipher")
        monkeypatch.setenv("CIPHER_KEY", AESCipher.create_key(16))
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    ticks = iter(range(10**6))
    monkeypatch.setattr(
        eventsourcing.domain,
        "datetime_now_with_tzinfo",
        lambda: start + timedelta(seconds=next(ticks) // 2),  # two events per second
    )
    container = bootstrap(Settings(database_url=database_url, signing_key=new_private_key()))
    try:
        app = container.app
        assert (app.mapper.cipher is None) is (stored_as == "JSON")
        org = Org(app)
        agreement = org.active()
        for n in range(25):
            org.run(
                org.manager,
                c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes=f"n {n}"),
            )
        events = app.history(agreement.id)
        stamps = [e.timestamp for e in events]
        tick = timedelta(microseconds=1)
        instants = {s + d for s in stamps for d in (-tick, timedelta(0), tick)}
        instants |= {stamps[0] - timedelta(days=1), stamps[-1] + timedelta(days=1)}
        for at in sorted(instants):
            expected = max(
                (e.originator_version for e in events if e.timestamp <= at), default=None
            )
            assert app._version_at(agreement.id, at, len(events)) == expected
        assert [
            app.recorded_at(s.state) for s in app.recorder.select_events(agreement.id)
        ] == stamps
        datastore = app.recorder.datastore  # type: ignore[attr-defined]
        transactions = []
        opened = datastore.transaction

        def counted(*, commit: bool) -> Any:
            transactions.append(commit)
            return opened(commit=commit)

        monkeypatch.setattr(datastore, "transaction", counted)
        assert app._version_at(agreement.id, stamps[20], len(events)) == 21
        assert transactions == [False]  # its five probes read in one transaction

        # Reads of several versions at once where a read is a round trip (PostgreSQL):
        # ~log16 of the versions instead of ~log2.
        reads: list[list[int]] = []
        search = app._stored_states

        @contextmanager
        def counting(originator_id: Any) -> Any:
            with search(originator_id) as states_of:

                def counted_states(versions: list[int]) -> dict[int, bytes]:
                    reads.append(versions)
                    return states_of(versions)

                yield counted_states

        monkeypatch.setattr(app, "_stored_states", counting)
        assert app._version_at(agreement.id, stamps[20], len(events)) == 21
        if database_url.startswith("postgresql"):
            assert len(reads) <= 2 and max(len(r) for r in reads) > 1, reads
        else:  # a statement is a call: one version per read, a binary search
            assert all(len(r) == 1 for r in reads) and len(reads) <= len(events).bit_length()
    finally:
        container.close()


def test_an_old_event_shape_in_the_database_is_upcast(container: Container) -> None:
    agreement_id = uuid4()
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-05T09:00:00+00:00"},
        "originator_topic": get_topic(Agreement),
        "actor_id": "e",
        "actor_role": "EMPLOYEE",
        "reason": None,
        "correlation_id": "c",
        "idempotency_key": None,
        "employee_id": "e",
        "title": "Old",
        "target_role": "PM",
        "skills": ["a"],
        "adjustments": [],
    }
    container.app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=agreement_id,
                originator_version=1,
                topic=get_topic(Proposed),
                state=json.dumps(state).encode(),
            )
        ]
    )
    agreement: Agreement = container.app.repository.get(agreement_id)
    assert agreement.career_goal == CareerGoal("PM", ("a",))
