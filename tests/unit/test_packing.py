"""Snapshots hold an agreement's records packed; loading one gives back the same
agreement, and histories nobody read are packed again without being unpacked."""

from __future__ import annotations

import dataclasses
from copy import deepcopy
from datetime import date
from typing import Any

from eventsourcing.application import Repository
from eventsourcing.domain import Snapshot as LibrarySnapshot

from domain.agreement import Agreement
from domain.application import commands as c
from domain.metadata import Meta
from domain.packing import RecordLog, RecordTable, pack, pack_by_id, unpack
from domain.records import Adjustment, Artifact, Change, ChangeKind, Reallocation, Review
from domain.values import (
    AdjustmentKind,
    ArtifactKind,
    ChangeStatus,
    Guardrails,
    ReviewOutcome,
)
from tests.support import Org, draft

RECORDS: list[Any] = [
    Adjustment("a1", "c1", AdjustmentKind.TASK, "Brief", 1.5, date(2026, 1, 2), None),
    Adjustment(
        "a2", "c2", AdjustmentKind.COGNITIVE, 'Ünïcode "q"', 0.25, None, None, ChangeStatus.REVERTED
    ),
    Reallocation("r1", "c3", "Triage", 2.0, "emp", "mate", date(2026, 3, 4), "why"),
    Review("v1", date(2026, 5, 6), ReviewOutcome.ON_TRACK, None, date(2026, 5, 20), "mgr"),
    Artifact("f1", "Deck", ArtifactKind.PRESENTATION, None, ("a", "b"), "emp", date(2026, 1, 1)),
    Change(
        "c4",
        ChangeKind.GUARDRAILS_CHANGED,
        "c4",
        "g1",
        7,
        None,
        "c5",
        Guardrails(6.0, ("Release sign-off",), 14, date(2027, 1, 1)),
        Guardrails(4.0, (), 7),
    ),
]


def test_every_record_kind_round_trips() -> None:
    for record in RECORDS:
        (back,) = unpack(pack([record], type(record)), type(record))
        assert back == record
        names = [f.name for f in dataclasses.fields(record)]
        assert [type(getattr(back, n)) for n in names] == [type(getattr(record, n)) for n in names]


def test_a_record_log_keeps_order_and_copies_apart() -> None:
    reviews = [r for r in RECORDS if isinstance(r, Review)] * 3
    log = RecordLog(Review, packed=pack(reviews[:2], Review))
    log.append(reviews[2])
    copy = log.copy()
    copy.append(reviews[0])
    assert log.pack() == pack(reviews, Review)  # packed again without unpacking
    assert list(log) == reviews and len(copy) == 4
    assert RecordLog(Review, packed="[]").pack() == "[]"
    empty_then_one = RecordLog(Review, packed="[]")
    empty_then_one.append(reviews[0])
    assert unpack(empty_then_one.pack(), Review) == reviews[:1]


def _long_agreement(org: Org) -> Agreement:
    agreement = org.active()
    for n in range(130):
        command: c.Command = (
            c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes=f"n{n}")
            if n % 3
            else c.RecordArtifact(
                agreement_id=agreement.id, title=f"t{n}", kind="DEMO", skills=["x"]
            )
        )
        org.run(org.manager, command)
    loaded: Agreement = org.app.repository.get(agreement.id)
    return loaded


def test_a_packed_snapshot_loads_the_same_agreement(org: Org) -> None:
    current = _long_agreement(org)
    (snapshot,) = org.app.snapshots.get(current.id)  # taken at version 100
    stored = org.app.mapper.to_stored_event(snapshot)
    assert b'"reviews":"[[' in stored.state  # packed, not one tagged object per record
    at_100 = org.app.agreement_at(org.auditor.actor, current.id, version=100)
    replayed = Repository(org.app.events).get(current.id, version=100)  # no snapshots
    assert at_100 == replayed
    assert at_100.version == 100 and len(at_100.reviews) > 60


def test_snapshots_taken_before_packing_still_load(org: Org) -> None:
    current = _long_agreement(org)
    current.resolve_chain_head()
    old = LibrarySnapshot.take.__func__(Agreement.Snapshot, current)  # type: ignore[attr-defined]
    for name in ("reviews", "artifacts"):  # plain lists and dicts then
        old.state[name] = list(old.state[name])
    for name in ("adjustments", "reallocations", "changes"):
        old.state[name] = dict(old.state[name])
    # And the chains apart: root -> its links, in the order they were made.
    chains: dict[str, list[str]] = {}
    for change in current.changes.values():
        chains.setdefault(change.root_id, []).append(change.id)
    old.state["chains"] = chains
    stored = org.app.mapper.to_stored_event(old)
    assert b'"reviews":[{' in stored.state and b'"chains":{' in stored.state
    loaded = org.app.mapper.to_domain_event(stored).mutate(None)
    assert loaded == current
    assert isinstance(loaded.reviews, RecordLog)


def test_a_record_table_reads_rows_as_used_and_keeps_their_order() -> None:
    adjustments = [r for r in RECORDS if isinstance(r, Adjustment)]
    packed = pack(adjustments, Adjustment)
    table: RecordTable[Adjustment] = RecordTable(Adjustment, packed)
    assert pack_by_id(table, Adjustment) == packed  # untouched rows packed as they were
    assert "a2" in table and "zz" not in table and len(table) == 2
    copy = table.copy()
    table["a1"] = dataclasses.replace(table["a1"], status=ChangeStatus.REVERTED)
    table["a3"] = adjustments[0]
    assert list(table) == ["a1", "a2", "a3"]
    assert table["a2"] == adjustments[1] and copy["a1"] == adjustments[0]
    assert dict(copy) == {a.id: a for a in adjustments}
    assert unpack(pack_by_id(table, Adjustment), Adjustment)[0].status is ChangeStatus.REVERTED


def test_copying_an_agreement_keeps_a_revert_on_the_copy_apart(org: Org) -> None:
    """The library copies the cached agreement before every command: a revert on the
    copy changes the copy's chain only. The chains are not held apart (they are the
    changes followed through `reverted_by`), so there is nothing per chain to copy, and
    a snapshot holds none."""
    agreement = org.active()
    added = org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(1)))
    change = list(added.adjustments.values())[-1].change_id
    cached: Agreement = org.app.repository.get(agreement.id)
    copy = deepcopy(cached)
    assert "chains" not in vars(copy)
    copy.revert_change(change, Meta("mgr", "MANAGER", "c", "Too much"))
    revert = copy.head_of(change)
    assert revert != change and copy.changes[revert].reverts == change
    assert not copy.is_in_effect(change) and cached.is_in_effect(change)
    assert cached.head_of(change) == change
    snapshot = Agreement.Snapshot.take(copy)
    assert "chains" not in snapshot.state
    stored = org.app.mapper.to_stored_event(snapshot)
    assert b'"chains"' not in stored.state
    loaded = org.app.mapper.to_domain_event(stored).mutate(None)
    assert dict(loaded.changes) == dict(copy.changes)
    assert loaded.head_of(change) == revert and not loaded.is_in_effect(change)
