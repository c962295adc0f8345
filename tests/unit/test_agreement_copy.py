"""The repository copies a cached agreement for each command on it, and `execute`
copies what it answers (domain.agreement.Agreement.__deepcopy__): containers copied,
values shared, and which is which decided once per type of value, not asked of every
value against a union that includes an ABC (RecordTable)."""

from __future__ import annotations

from abc import ABCMeta
from copy import deepcopy
from typing import Any

import pytest

from domain.agreement import Agreement
from domain.application import commands as c
from domain.metadata import Meta
from domain.packing import RecordLog, RecordTable
from tests.support import Org, draft


def test_a_copy_copies_the_containers_and_shares_the_values(org: Org) -> None:
    agreement = org.active()
    org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(1)))
    cached: Agreement = org.app.repository.get(agreement.id, deepcopy_from_cache=False)
    copied = deepcopy(cached)
    assert copied is not cached
    for name, value in vars(cached).items():
        if isinstance(value, dict | list | RecordLog | RecordTable):
            assert vars(copied)[name] is not value and vars(copied)[name] == value, name
        else:
            assert vars(copied)[name] is value, name
    assert copied == cached

    copied.add_adjustment(draft(2), Meta("mgr", "MANAGER", "c"))
    assert len(copied.adjustments) == len(cached.adjustments) + 1
    assert not cached.pending_events and copied.version == cached.version + 1


def test_a_copy_asks_no_abc_once_it_has_seen_the_types(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached: Agreement = org.app.repository.get(org.active().id, deepcopy_from_cache=False)
    deepcopy(cached)  # the first copy learns the types of its values
    asked: list[type] = []
    instancecheck = ABCMeta.__instancecheck__

    def counting(cls: ABCMeta, instance: Any) -> bool:
        asked.append(cls)
        return instancecheck(cls, instance)

    monkeypatch.setattr(ABCMeta, "__instancecheck__", counting)
    for _ in range(3):
        deepcopy(cached)
    assert [cls for cls in asked if cls is RecordTable] == []
