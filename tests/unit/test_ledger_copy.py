"""The repository copies a cached hours ledger for each command that books hours
(domain.ledger.HoursLedger.__deepcopy__): the immutable state is shared, the containers
copied, so the copy's bookings stay its own."""

from __future__ import annotations

from copy import deepcopy

from domain.application import commands as c
from domain.ledger import HoursLedger, Side
from domain.metadata import Meta
from tests.support import Org


def test_a_copy_of_a_cached_ledger_shares_what_never_changes(org: Org) -> None:
    agreement = org.active()
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="Smoke tests",
            hours_per_week=2,
            to_person_id=org.mate_id,
            reason="x",
        ),
    )
    ledger_id = HoursLedger.id_for(org.mate_id)
    cached: HoursLedger = org.app.repository.get(ledger_id, deepcopy_from_cache=False)
    copied = deepcopy(cached)
    assert copied is not cached and cached.last_event is not None
    assert copied.last_event is cached.last_event  # not walked field by field
    assert copied.entries == cached.entries and copied.entries is not cached.entries
    assert copied == cached

    copied.book("another", agreement.id, Side.RECEIVED, 1.5, Meta("mgr", "MANAGER", "c"))
    assert copied.net_received == 3.5 and cached.net_received == 2
    assert "another" not in cached.entries
    assert not cached.pending_events and len(copied.pending_events) == 1
    assert copied.version == cached.version + 1
