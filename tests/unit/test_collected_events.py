"""`CraftingApplication.save` collects the pending events of our aggregates without
the library's runtime-protocol checks (domain.application.service._Collected), and
saves exactly what the library's collecting saves."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from eventsourcing.application import ProcessingEvent

from domain.agreement import Agreement
from domain.application.service import _Collected
from domain.metadata import Meta
from tests.support import Org, draft


def test_saving_an_aggregate_asks_no_runtime_protocol(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    agreement: Agreement = org.app.repository.get(org.active().id)
    agreement.add_adjustment(draft(1), Meta("mgr", "MANAGER", "c"))
    asked: list[type] = []
    protocol_meta: Any = type(typing.SupportsInt)  # typing._ProtocolMeta
    instancecheck = protocol_meta.__instancecheck__

    def counting(cls: type, instance: Any) -> bool:
        asked.append(cls)
        return bool(instancecheck(cls, instance))

    monkeypatch.setattr(protocol_meta, "__instancecheck__", counting)
    recordings = org.app.save(agreement)
    assert asked == []
    assert [r.domain_event.originator_version for r in recordings] == [agreement.version]
    assert not agreement.pending_events


def test_it_collects_what_the_library_collects(org: Org) -> None:
    first: Agreement = org.app.repository.get(org.active().id)
    second: Agreement = org.app.repository.get(org.active().id)
    for agreement in (first, second):
        agreement.add_adjustment(draft(1), Meta("mgr", "MANAGER", "c"))
    events = [*first.pending_events, *second.pending_events]
    ours, library = _Collected(), ProcessingEvent[Any]()
    ours.collect_events(first, None, second, destroy_keys=["x"])
    library.collect_events(*events, destroy_keys=["x"])
    assert ours.events == library.events == events
    assert ours.aggregates == {first.id: first, second.id: second}
    assert ours.saved_kwargs == library.saved_kwargs == {"destroy_keys": ["x"]}
