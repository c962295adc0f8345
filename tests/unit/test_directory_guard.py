"""The directory command's provisioning options: per-person expected versions, managers
who arrive later, provisioning attributes, and the mass-deactivation guard."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.application import CraftingApplication
from domain.application import commands as c
from domain.directory_guard import GuardPolicy
from domain.errors import DomainError, Forbidden
from domain.person import Person, Profile, Provisioning
from domain.values import Role
from tests.support import positions, request

IDP = request("okta", Role.INTEGRATION)
HR = request("hana", Role.HR)


def _profile(active: bool = True, manager: str | None = None) -> Profile:
    return Profile("Ana", "a@example.com", manager, "qa", 40, active)


def _policy(size: int, share: float = 0.2, min_people: int = 0) -> GuardPolicy:
    return GuardPolicy(size, share, timedelta(hours=1), min_people)


def _push(app: CraftingApplication, *entries: c.DirectoryEntry, **options: object) -> list[Person]:
    result = app.execute(IDP, c.UpsertPeople(people=list(entries), **options))  # type: ignore[arg-type]
    return list(result.people)


def _directory(app: CraftingApplication, n: int) -> list[str]:
    ids = [f"p{i:02}" for i in range(n)]
    _push(app, *(c.DirectoryEntry(pid, _profile()) for pid in ids))
    return ids


def _deactivate(app: CraftingApplication, pid: str, size: int) -> bool:
    """One SCIM-like deactivation; True when applied, False when held."""
    (person,) = _push(app, c.DirectoryEntry(pid, _profile(active=False)), guard=_policy(size))
    return not person.profile.active


def _active(app: CraftingApplication) -> int:
    return sum(
        1
        for pid in (f"p{i:02}" for i in range(100))
        if (p := app.find_person(pid)) and p.profile.active
    )


def test_a_wave_above_the_share_is_held_and_applied_when_hr_confirms(
    memory_app: CraftingApplication,
) -> None:
    ids = _directory(memory_app, 10)
    outcomes = [_deactivate(memory_app, pid, _active(memory_app)) for pid in ids[:3]]
    assert outcomes == [True, True, False]  # 20% of 10 pass, the third is held
    assert [pid for pid, _ in memory_app.held_deactivations()] == [ids[2]]
    assert memory_app.find_person(ids[2]).profile.active  # type: ignore[union-attr]
    (confirmed,) = memory_app.execute(HR, c.ConfirmDeactivations(reason="reorg")).people
    assert confirmed.person_id == ids[2] and not confirmed.profile.active
    assert memory_app.held_deactivations() == []


def test_while_a_wave_is_held_every_further_deactivation_joins_it(
    memory_app: CraftingApplication,
) -> None:
    ids = _directory(memory_app, 10)
    for pid in ids[:2]:
        _deactivate(memory_app, pid, _active(memory_app))
    assert not _deactivate(memory_app, ids[2], 8)
    # Even a single deactivation, long after, waits for HR's decision on the wave.
    assert not _deactivate(memory_app, ids[3], 8)
    assert [pid for pid, _ in memory_app.held_deactivations()] == ids[2:4]
    kept = memory_app.execute(HR, c.DismissDeactivations(reason="IdP misconfigured")).people
    assert [p.person_id for p in kept] == ids[2:4]
    assert all(p.profile.active for p in kept)
    assert memory_app.held_deactivations() == []


def test_deactivations_older_than_the_window_do_not_count(memory_app: CraftingApplication) -> None:
    now = [datetime.now(UTC)]
    memory_app.clock = lambda: now[0]
    ids = _directory(memory_app, 10)
    for pid in ids[:2]:
        assert _deactivate(memory_app, pid, _active(memory_app))
    now[0] += timedelta(hours=2)  # the events' own timestamps are now two hours old
    assert _deactivate(memory_app, ids[2], _active(memory_app))


def test_reactivating_a_held_person_withdraws_their_deactivation(
    memory_app: CraftingApplication,
) -> None:
    ids = _directory(memory_app, 10)
    for pid in ids[:3]:
        _deactivate(memory_app, pid, _active(memory_app))
    assert [pid for pid, _ in memory_app.held_deactivations()] == [ids[2]]
    _push(memory_app, c.DirectoryEntry(ids[2], _profile()), guard=_policy(8))
    assert memory_app.held_deactivations() == []


def test_a_held_deactivation_still_applies_the_other_changes(
    memory_app: CraftingApplication,
) -> None:
    ids = _directory(memory_app, 10)
    for pid in ids[:2]:
        _deactivate(memory_app, pid, _active(memory_app))
    renamed = replace(_profile(active=False), display_name="Ana B")
    removal = Provisioning(external_id="x", deprovisioned=True)
    (person,) = _push(memory_app, c.DirectoryEntry(ids[2], renamed, removal), guard=_policy(8))
    assert person.profile.active and person.profile.display_name == "Ana B"
    assert person.provisioning == Provisioning(external_id="x", deprovisioned=False)


def test_small_directories_pass_waves_up_to_the_minimum(memory_app: CraftingApplication) -> None:
    ids = _directory(memory_app, 3)
    for pid in ids[:2]:
        (person,) = _push(
            memory_app,
            c.DirectoryEntry(pid, _profile(active=False)),
            guard=_policy(_active(memory_app), min_people=2),
        )
        assert not person.profile.active


def test_unguarded_pushes_are_never_held(memory_app: CraftingApplication) -> None:
    ids = _directory(memory_app, 10)
    people = _push(memory_app, *(c.DirectoryEntry(pid, _profile(active=False)) for pid in ids))
    assert not any(p.profile.active for p in people)


def test_only_hr_decides_on_a_held_wave(memory_app: CraftingApplication) -> None:
    for command in (c.ConfirmDeactivations(), c.DismissDeactivations()):
        with pytest.raises(Forbidden):
            memory_app.execute(IDP, command)


def test_an_expected_version_is_checked_for_one_person(memory_app: CraftingApplication) -> None:
    (ana,) = _push(memory_app, c.DirectoryEntry("ana", _profile()))
    before = positions(memory_app)
    with pytest.raises(DomainError) as stale:
        _push(
            memory_app,
            c.DirectoryEntry("ana", replace(_profile(), team_id="x")),
            expected_version=ana.version + 1,
        )
    assert (stale.value.code, stale.value.field) == ("VERSION_CONFLICT", "expectedVersion")
    with pytest.raises(DomainError) as two:
        _push(
            memory_app,
            c.DirectoryEntry("ana", _profile()),
            c.DirectoryEntry("bo", _profile()),
            expected_version=1,
        )
    assert two.value.field == "expectedVersion"
    assert positions(memory_app) == before
    (changed,) = _push(
        memory_app,
        c.DirectoryEntry("ana", replace(_profile(), team_id="x")),
        expected_version=ana.version,
    )
    assert changed.version == ana.version + 1


def test_a_manager_may_follow_only_when_the_command_says_so(
    memory_app: CraftingApplication,
) -> None:
    with pytest.raises(DomainError) as refused:
        _push(memory_app, c.DirectoryEntry("ana", _profile(manager="boss")))
    assert refused.value.code == "UNKNOWN_PERSON"
    (ana,) = _push(
        memory_app, c.DirectoryEntry("ana", _profile(manager="boss")), managers_may_follow=True
    )
    assert ana.profile.manager_id == "boss"
    # Cycles are refused all the same, whoever has arrived.
    with pytest.raises(DomainError) as cycle:
        _push(
            memory_app, c.DirectoryEntry("boss", _profile(manager="ana")), managers_may_follow=True
        )
    assert cycle.value.code == "INVALID_INPUT"


def test_provisioning_is_its_own_event_and_upsert_people_leaves_it_alone(
    memory_app: CraftingApplication,
) -> None:
    given = Provisioning(external_id="okta-1", employee_number="42")
    _push(memory_app, c.DirectoryEntry("ana", _profile(), given))
    _push(memory_app, c.DirectoryEntry("ana", replace(_profile(), team_id="ops")))
    history = list(memory_app.events.get(Person.id_for("ana")))
    assert [type(e).__name__ for e in history] == [
        "Registered",
        "ProvisioningChanged",
        "ProfileChanged",
    ]
    assert memory_app.find_person("ana").provisioning == given  # type: ignore[union-attr]
    with pytest.raises(DomainError) as long_id:
        _push(memory_app, c.DirectoryEntry("bo", _profile(), Provisioning(external_id="x" * 129)))
    assert long_id.value.field == "people[0].externalId"


def test_a_long_guard_history_loads_back_as_it_was(memory_app: CraftingApplication) -> None:
    # Past the 100 events at which aggregates may be snapshotted: the guard's state
    # (timestamps, held people) must load back exactly, or deactivations would stop.
    ids = _directory(memory_app, 110)
    for pid in ids:
        _push(memory_app, c.DirectoryEntry(pid, _profile(active=False)), guard=_policy(1000))
    _push(memory_app, c.DirectoryEntry(ids[0], _profile()), guard=_policy(1000))
    _push(memory_app, c.DirectoryEntry(ids[0], _profile(active=False)), guard=_policy(1))
    guard = memory_app.find_deactivation_guard()  # the store, no cache in this app
    assert guard is not None and guard.version == 112
    assert guard.recent(datetime.now(UTC), timedelta(hours=1)) == 110
    assert list(guard.held) == [ids[0]]


def test_a_decision_on_the_wave_hr_was_shown_is_refused_once_it_changed(
    memory_app: CraftingApplication,
) -> None:
    ids = _directory(memory_app, 10)
    for pid in ids[:3]:
        _deactivate(memory_app, pid, _active(memory_app))
    shown = tuple(pid for pid, _ in memory_app.held_deactivations())
    assert shown == (ids[2],)
    assert not _deactivate(memory_app, ids[3], 8)  # the provider adds to the wave
    for command in (
        c.ConfirmDeactivations(reason="reorg", people=shown),
        c.DismissDeactivations(people=shown),
    ):
        with pytest.raises(DomainError) as refused:
            memory_app.execute(HR, command)
        assert refused.value.code == "VERSION_CONFLICT" and refused.value.field == "personIds"
        assert "changed since you read them" in refused.value.message
    assert [pid for pid, _ in memory_app.held_deactivations()] == ids[2:4]
    assert memory_app.find_person(ids[3]).profile.active  # type: ignore[union-attr]
    # The wave as it is now, in any order, is decided.
    now = (ids[3], ids[2])
    decided = memory_app.execute(HR, c.ConfirmDeactivations(people=now)).people
    assert {p.person_id for p in decided} == set(now)
    with pytest.raises(DomainError, match="Nothing is held any more"):
        memory_app.execute(HR, c.DismissDeactivations(people=now))
