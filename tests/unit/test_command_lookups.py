"""A command reads each person of the directory once (domain.application.unit_of_work):
each read is a round trip to the store and a copy, and approving or reallocating used to
read the employee twice (the access check's manager, then the handler's). Until the
command changes a person; from then on lookups read the store as before."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from domain.application import CraftingApplication
from domain.application import commands as c
from domain.application.unit_of_work import UnitOfWork
from domain.ledger import HoursLedger
from domain.person import Person
from domain.values import Role
from tests.support import Org, guardrails, request


@pytest.fixture
def reads(org: Org) -> Iterator[Counter[UUID]]:
    """The aggregates the application reads from its repository, by id."""
    counted: Counter[UUID] = Counter()
    repository = org.app.repository
    get = repository.get

    def counting_get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        counted[aggregate_id] += 1
        return get(aggregate_id, *args, **kwargs)

    repository.get = counting_get  # type: ignore[method-assign]
    yield counted
    repository.get = get  # type: ignore[method-assign]


def _people_read(reads: Counter[UUID], org: Org) -> dict[str, int]:
    ids = (org.employee_id, org.manager_id, org.mate_id, org.hr_id)
    return {pid: reads[Person.id_for(pid)] for pid in ids if reads[Person.id_for(pid)]}


def test_approving_reads_the_employee_once(org: Org, reads: Counter[UUID]) -> None:
    agreement = org.propose()
    reads.clear()
    org.run(org.manager, c.ApproveAgreement(agreement_id=agreement.id, guardrails=guardrails()))
    assert _people_read(reads, org) == {org.employee_id: 1}  # two before
    assert reads[agreement.id] == 1


def test_reallocating_reads_each_party_once(org: Org, reads: Counter[UUID]) -> None:
    agreement = org.active()
    reads.clear()
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="Write release notes",
            reason="Mate takes it over",
            hours_per_week=2,
            to_person_id=org.mate_id,
        ),
    )
    assert _people_read(reads, org) == {org.employee_id: 1, org.mate_id: 1}  # employee: two


def test_a_person_changed_in_the_command_is_read_again(org: Org, reads: Counter[UUID]) -> None:
    session = UnitOfWork(org.app, org.hr, c.UpsertPeople(people=[]), org.app.clock())
    first = session.find_person(org.employee_id)
    assert first is not None
    assert session.find_person(org.employee_id) is first  # read once
    assert reads[Person.id_for(org.employee_id)] == 1

    meta = session.meta(Role.HR)
    first.update(replace(first.profile, manager_id=org.hr_id), meta)
    again = session.find_person(org.employee_id)  # the stored state, not the changed copy
    assert again is not None and again is not first
    assert again.profile.manager_id == org.manager_id
    assert session.manager_of(org.employee_id) == org.manager_id
    assert reads[Person.id_for(org.employee_id)] == 3  # the map ended: every lookup reads


def test_a_person_enlisted_ends_the_map(org: Org, reads: Counter[UUID]) -> None:
    session = UnitOfWork(org.app, org.hr, c.UpsertPeople(people=[]), org.app.clock())
    assert session.find_person(org.mate_id) is not None
    assert session.find_person("newcomer") is None
    newcomer = Person.register(
        "newcomer", org.app.find_person(org.mate_id).profile, session.meta(Role.HR)
    )  # type: ignore[union-attr]
    session.enlist(newcomer)
    session.find_person(org.mate_id)
    session.find_person("newcomer")
    assert reads[Person.id_for(org.mate_id)] == 3  # the lookup, the profile above, after
    assert reads[Person.id_for("newcomer")] == 2


def test_a_command_that_changes_people_sees_the_store_after(
    memory_app: CraftingApplication,
) -> None:
    """A directory push that changes someone, then checks a manager it changed nothing
    of, answers as before (the push's own copies are what it saves)."""
    org = Org(memory_app)
    profile = memory_app.find_person(org.mate_id).profile  # type: ignore[union-attr]
    result = memory_app.execute(
        request("hris", Role.INTEGRATION),
        c.UpsertPeople(
            people=[
                c.DirectoryEntry(org.mate_id, replace(profile, manager_id=org.other_manager_id)),
                c.DirectoryEntry(org.mate2_id, replace(profile, manager_id=org.mate_id)),
            ]
        ),
    )
    assert [p.profile.manager_id for p in result.people] == [org.other_manager_id, org.mate_id]
    assert memory_app.manager_of(org.mate2_id) == org.mate_id
    assert memory_app.manager_of(org.mate_id) == org.other_manager_id


def test_a_copy_of_a_cached_person_shares_what_never_changes(org: Org) -> None:
    """Each lookup copies the cached person: the frozen profile and events are shared
    (copying them walked every field in Python), the copy's own changes stay its own."""
    cached = org.app.repository.get(Person.id_for(org.employee_id), deepcopy_from_cache=False)
    copied = deepcopy(cached)
    assert copied is not cached and cached.last_event is not None
    assert copied.profile is cached.profile  # not walked field by field
    assert copied.last_event is cached.last_event
    assert copied == cached

    copied.update(
        replace(copied.profile, team_id="elsewhere"),
        UnitOfWork(org.app, org.hr, c.UpsertPeople(people=[]), org.app.clock()).meta(Role.HR),
    )
    assert cached.profile.team_id != "elsewhere"
    assert not cached.pending_events and len(copied.pending_events) == 1
    assert copied.version == cached.version + 1


def _reallocate(org: Org, agreement_id: UUID, task: str) -> None:
    org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement_id,
            task=task,
            hours_per_week=1,
            to_person_id=org.mate_id,
            reason="x",
        ),
    )


def test_a_reallocation_finds_what_it_looked_up_together(
    org: Org, reads: Counter[UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the store reads several aggregates at once (PostgreSQL), a reallocation asks
    for its receiver and both ledgers together (UnitOfWork.prefetch) and reads none of
    them again; the in-memory store cannot (None), and each is read alone as before."""
    agreement = org.active()
    _reallocate(org, agreement.id, "Smoke tests")  # opens both ledgers
    asked: list[tuple[list[str], list[str]]] = []

    def together(people: list[str], owners: list[str]) -> Any:
        asked.append((list(people), list(owners)))
        return (
            {p: org.app.find_person(p) for p in people},
            {o: org.app.find_ledger(o) for o in owners},
        )

    monkeypatch.setattr(org.app, "find_together", together)
    reads.clear()
    _reallocate(org, agreement.id, "Release notes")
    assert asked == [([org.mate_id], [org.mate_id, org.employee_id])]
    ledger_reads = {o: reads[HoursLedger.id_for(o)] for o in (org.mate_id, org.employee_id)}
    # Once each, the receiver and the ledgers by `together` above: not again by the
    # command (the employee: by the access check, as the in-memory store reads it).
    assert _people_read(reads, org) == {org.employee_id: 1, org.mate_id: 1}
    assert ledger_reads == {org.mate_id: 1, org.employee_id: 1}
    for owner, net in ((org.mate_id, 2), (org.employee_id, -2)):
        ledger = org.app.find_ledger(owner)
        assert ledger is not None and ledger.net_received == net
