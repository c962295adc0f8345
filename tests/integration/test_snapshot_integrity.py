"""An edited snapshot is never trusted: decisions and time travel come from the events,
the discard is reported, and `crafting verify` names it (both databases)."""

from __future__ import annotations

import json
from uuid import UUID

import eventsourcing.application
import pytest
from sqlalchemy import text

from bench.long_agreement import LongAgreement, lift_child_limits
from bench.team import Team
from domain.agreement import CHILD_LIMITS
from domain.application import CraftingApplication
from domain.application import commands as c
from domain.errors import GuardrailExceeded
from domain.sealing import Opened
from domain.snapshots import TaggedSnapshotStore, chunk_stream
from infra import audit
from infra.alarms import open_alarms
from infra.bootstrap import Container, bootstrap
from tests.support import Checked, CountingChecks, Org, draft, guardrails


def _long_agreement(org: Org) -> UUID:
    agreement = org.active(rails=guardrails(6))  # 2 h of development, at most 6
    for i in range(105):  # a snapshot is taken at version 100
        org.run(
            org.manager,
            c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes=f"check-in {i}"),
        )
    return agreement.id


def _table(container: Container) -> str:
    assert isinstance(container.app.snapshots, TaggedSnapshotStore)
    return audit.snapshot_table(container.app.snapshots)


def _snapshot_row(container: Container, aid: UUID) -> tuple[object, bytes]:
    with container.engines.reader.connect() as conn:
        row = conn.execute(text(f"SELECT originator_id, state FROM {_table(container)}")).one()
    assert UUID(str(row.originator_id)) == aid
    return row.originator_id, bytes(row.state)


def _write_state(container: Container, originator_id: object, state: bytes) -> None:
    with container.engines.writer.begin() as conn:
        conn.execute(
            text(f"UPDATE {_table(container)} SET state = :state WHERE originator_id = :id"),
            {"state": state, "id": originator_id},
        )


def _forged(state: bytes) -> bytes:
    """The attacker's edit: guardrail 6 -> 40 and a new title, the tag kept as it was."""
    prefix, tag, body = state.split(b":", 2)
    document = json.loads(body)
    state = document["state"]
    state["title"] = "FORGED title"
    state["guardrails"]["_data_"]["max_development_hours_per_week"] = 40
    return b":".join([prefix, tag, json.dumps(document).encode()])


@pytest.mark.parametrize("keep_tag", [True, False])
def test_an_edited_snapshot_is_discarded_and_decisions_use_the_events(
    container: Container, keep_tag: bool
) -> None:
    container.prepare()
    org = Org(container.app)
    aid = _long_agreement(org)
    originator_id, state = _snapshot_row(container, aid)
    assert state.startswith(b"hmac-sha256:")
    forged = _forged(state)
    _write_state(container, originator_id, forged if keep_tag else forged.split(b":", 2)[2])

    alarms = audit.INTEGRITY_ALARMS.labels("snapshot")._value.get()
    # A fresh process: nothing cached, so the snapshot would be loaded.
    fresh = bootstrap(container.settings)
    try:
        org.app = fresh.app
        with pytest.raises(GuardrailExceeded):
            org.run(org.manager, c.AddAdjustment(agreement_id=aid, adjustment=draft(30)))
        past = fresh.app.agreement_at(org.auditor.actor, aid, version=104)
        assert past.title == "Tester to product manager"
        assert past.guardrails is not None
        assert past.guardrails.max_development_hours_per_week == 6
        assert audit.INTEGRITY_ALARMS.labels("snapshot")._value.get() > alarms
        # Kept in the database too: every process (serve's /readyz, /metrics) shows it.
        with container.engines.reader.connect() as conn:
            kept = [(a.kind, a.subject) for a in open_alarms(conn)]
        assert ("integrity.snapshot", f"agreement {aid} version 100") in kept
        checked, problems = audit.verify_snapshots(fresh.app, fresh.engines.reader)
        assert checked == 1
        assert [(p.agreement_id, p.version, p.kind) for p in problems] == [
            (str(aid), 100, "BAD_TAG")
        ]
    finally:
        fresh.close()


def test_verify_finds_nothing_wrong_with_untouched_snapshots(container: Container) -> None:
    container.prepare()
    org = Org(container.app)
    _long_agreement(org)
    checked, problems = audit.verify_snapshots(container.app, container.engines.reader)
    assert (checked, problems) == (1, [])


def test_verify_replays_snapshots_without_the_librarys_per_event_check(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-deriving each snapshot replays its agreement up to it: without the library's
    isinstance check per event, which cost as much as applying the event."""
    container.prepare()
    _long_agreement(Org(container.app))
    monkeypatch.setattr(eventsourcing.application, "CanMutateProtocol", Checked)
    CountingChecks.calls = 0
    checked, problems = audit.verify_snapshots(container.app, container.engines.reader)
    assert (checked, problems, CountingChecks.calls) == (1, [], 0)


def test_a_snapshot_written_with_the_key_but_wrong_state_is_found_by_verify(
    container: Container,
) -> None:
    # An insider with the key (or a bug) could write a well-tagged but wrong snapshot:
    # verify re-derives every snapshot from the events.
    container.prepare()
    org = Org(container.app)
    aid = _long_agreement(org)
    snapshots = container.app.snapshots
    (snapshot,) = snapshots.get(aid)  # type: ignore[union-attr]
    snapshot.state["title"] = "Wrong but well tagged"  # type: ignore[attr-defined]
    with container.engines.writer.begin() as conn:
        conn.execute(text(f"DELETE FROM {_table(container)}"))
    snapshots.put([snapshot])  # type: ignore[union-attr]
    _, problems = audit.verify_snapshots(container.app, container.engines.reader)
    assert [(p.version, p.kind) for p in problems] == [(100, "STATE_DIFFERS")]


def test_without_a_key_no_snapshot_is_written_or_used() -> None:
    app = CraftingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        aid = _long_agreement(Org(app))
        assert app.snapshots is not None
        assert list(app.snapshots.recorder.select_events(aid)) == []
        assert app.repository.get(aid).version > 100
    finally:
        app.close()


def _grown(container: Container) -> tuple[Team, UUID]:
    """An agreement of 450 events, past the child limits: its logs are chunked."""
    limits = dict(CHILD_LIMITS)
    lift_child_limits()
    try:
        team = Team(container.app)
        agreement = LongAgreement(team, team.active().id)
        agreement.grow(450, batch=90)
        return team, agreement.aid
    finally:
        CHILD_LIMITS.update(limits)


@pytest.mark.parametrize("keep_tag", [True, False])
def test_an_edited_chunk_is_discarded_and_time_travel_uses_the_events(
    container: Container, keep_tag: bool
) -> None:
    container.prepare()
    team, aid = _grown(container)
    store = container.app.snapshots
    assert isinstance(store, TaggedSnapshotStore) and store.chunks is not None
    table = audit.snapshot_table(store).replace("snapshots", "snapshot_chunks")
    stream = chunk_stream(aid, "reviews")
    with container.engines.writer.begin() as conn:
        rows = conn.execute(text(f"SELECT originator_id, originator_version, state FROM {table}"))
        (first,) = [
            r for r in rows if UUID(str(r.originator_id)) == stream and r.originator_version == 1
        ]
        state = bytes(first.state)
        assert state.startswith(b"hmac-sha256:") and b'"ON_TRACK"' in state
        forged = state.replace(
            b'"ON_TRACK"', b'"AT_RISK"', 1
        )  # a valid outcome, not the stored one
        conn.execute(
            text(
                f"UPDATE {table} SET state = :state "  # the library's table
                "WHERE originator_id = :id AND originator_version = 1"
            ),
            {"state": forged if keep_tag else forged.split(b":", 2)[2], "id": first.originator_id},
        )

    alarms = audit.INTEGRITY_ALARMS.labels("snapshot")._value.get()
    fresh = bootstrap(container.settings)  # nothing cached
    try:
        replay = eventsourcing.application.Repository(fresh.app.events)
        past = fresh.app.agreement_at(team.auditor.actor, aid, version=400)
        assert list(past.reviews) == list(replay.get(aid, version=400).reviews)
        assert past == replay.get(aid, version=400)
        assert audit.INTEGRITY_ALARMS.labels("snapshot")._value.get() > alarms
        _, problems = audit.verify_snapshots(fresh.app, fresh.engines.reader)
        # Named with every snapshot that refers to it.
        assert [(p.version, p.kind) for p in problems] == [
            (v, "CHUNK_DIFFERS:reviews:0") for v in (200, 300, 400)
        ]
    finally:
        fresh.close()


def test_verify_checks_the_chunks_of_untouched_snapshots(container: Container) -> None:
    container.prepare()
    _grown(container)
    checked, problems = audit.verify_snapshots(container.app, container.engines.reader)
    assert (checked, problems) == (4, [])


def test_time_travel_from_a_snapshot_opens_its_sealed_texts_as_a_replay_does(
    container: Container,
) -> None:
    """The records a snapshot holds packed (and its chunks) come back with their sealed
    texts opened, as the events replayed give them, not as envelopes."""
    container.prepare()
    team, aid = _grown(container)
    fresh = bootstrap(container.settings)  # nothing cached
    try:
        replay = eventsourcing.application.Repository(fresh.app.events)
        for version in (250, 400):  # from the snapshots at 200 and 400, chunks and tail
            past = fresh.app.agreement_at(team.auditor.actor, aid, version=version)
            expected = replay.get(aid, version=version)
            assert past == expected
            assert [r.notes for r in past.reviews] == [r.notes for r in expected.reviews]
            assert all(isinstance(r.notes, Opened) for r in list(past.reviews)[-50:])
    finally:
        fresh.close()


def test_adjustments_in_chunks_are_verified_and_travel_with_their_texts_and_statuses(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the child limit the adjustments are chunked (domain.agreement.snapshot),
    stored as first recorded: `verify` finds the stored chunks equal to the replayed
    ones, and time travel gives each its status and its opened description."""
    container.prepare()
    monkeypatch.setitem(CHILD_LIMITS, "adjustments", 10**6)
    team = Team(container.app)
    aid = team.active().id
    for _ in range(240):
        team.run(team.manager, c.AddAdjustment(agreement_id=aid, adjustment=draft(0)))
    agreement = container.app.repository.get(aid)
    old = list(agreement.adjustments.values())[5].change_id
    team.run(team.manager, c.RevertChange(agreement_id=aid, change_id=old, reason="r"))
    for _ in range(60):
        team.run(team.manager, c.AddAdjustment(agreement_id=aid, adjustment=draft(0)))
    checked, problems = audit.verify_snapshots(container.app, container.engines.reader)
    assert checked >= 3 and problems == []
    store = container.app.snapshots
    assert isinstance(store, TaggedSnapshotStore)
    assert len(store.stored_chunks(aid, "adjustments")) >= 1
    fresh = bootstrap(container.settings)  # nothing cached
    try:
        replay = eventsourcing.application.Repository(fresh.app.events)
        now = replay.get(aid)
        for version in (now.version - 30, now.version):
            past = fresh.app.agreement_at(team.auditor.actor, aid, version=version)
            expected = replay.get(aid, version=version)
            assert dict(past.adjustments) == dict(expected.adjustments)
            statuses = [a.status for a in past.adjustments.values()]
            assert statuses.count("REVERTED") == 1
            assert all(isinstance(a.description, Opened) for a in past.adjustments.values())
    finally:
        fresh.close()
