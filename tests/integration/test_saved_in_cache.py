"""A command's saved agreement and ledgers replace their cached copies
(CraftingApplication._keep_saved): the next command fast-forwards past them without
reading back and decoding its own events, and still applies every other writer's."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from domain.agreement import Agreement
from domain.application import CraftingApplication
from domain.application import commands as c
from domain.application.replay import ReplayingRepository
from domain.errors import DomainError, Forbidden, ReceiverOverloaded
from domain.ledger import HoursLedger
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from tests.support import Org, draft, guardrails

WRITERS = 8


@pytest.fixture
def two(database_url: str) -> Iterator[tuple[Container, Container]]:
    """Two services on one store, each with its own aggregate cache (two processes)."""
    first = bootstrap(Settings(database_url=database_url))
    second = bootstrap(Settings(database_url=database_url))
    yield first, second
    first.close()
    second.close()


def _decoded(app: CraftingApplication) -> Counter[UUID]:
    """The events the application decodes from now on, by aggregate."""
    counted: Counter[UUID] = Counter()
    decode = app.mapper.to_domain_event

    def counting(stored: Any) -> Any:
        counted[stored.originator_id] += 1
        return decode(stored)

    app.mapper.to_domain_event = counting  # type: ignore[method-assign]
    return counted


def _reallocate(org: Org, agreement_id: UUID, task: str, version: int | None = None) -> Agreement:
    return org.run(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement_id,
            task=task,
            hours_per_week=1,
            to_person_id=org.mate_id,
            reason="x",
            expected_version=version,
        ),
    )


def test_the_next_command_decodes_none_of_the_last_ones_events(
    two: tuple[Container, Container],
) -> None:
    app = two[0].app
    org = Org(app)
    agreement = org.active()
    decoded = _decoded(app)
    _reallocate(org, agreement.id, "Smoke tests")  # opens both ledgers
    moved = _reallocate(org, agreement.id, "Release notes")
    ledgers = [HoursLedger.id_for(org.mate_id), HoursLedger.id_for(org.employee_id)]
    assert decoded[agreement.id] == 0 and [decoded[i] for i in ledgers] == [0, 0]
    assert len(moved.reallocations) == 2


def test_what_is_cached_is_what_the_store_replays(two: tuple[Container, Container]) -> None:
    app = two[0].app
    org = Org(app)
    agreement = org.active()
    added = org.run(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(1)))
    moved = _reallocate(org, agreement.id, "Smoke tests")
    org.run(org.manager, c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes="ok"))
    for change in (list(added.adjustments)[-1], list(moved.reallocations)[-1]):
        change_id = (added.adjustments.get(change) or moved.reallocations[change]).change_id
        revert = c.RevertChange(agreement_id=agreement.id, change_id=change_id, reason="x")
        org.run(org.manager, revert)
    aid, why = agreement.id, "x"
    for command in (
        c.RecordArtifact(agreement_id=aid, title="Brief", kind="BRIEF", skills=["writing"]),
        c.SetGuardrails(agreement_id=aid, guardrails=guardrails(5)),
        c.PauseAgreement(agreement_id=aid, reason=why),
        c.ResumeAgreement(agreement_id=aid, reason=why),
        c.RevertToVersion(agreement_id=aid, version=agreement.version + 1, reason=why),
        c.CompleteAgreement(agreement_id=aid, reason=why),
        c.RecordOutcome(agreement_id=aid, kind="STOPPED", reason=why),
    ):
        org.run(org.employee if isinstance(command, c.RecordArtifact) else org.manager, command)
    store = ReplayingRepository(app.events)
    for aggregate_id in (agreement.id, HoursLedger.id_for(org.mate_id)):
        cached = app.repository.get(aggregate_id, deepcopy_from_cache=False)
        replayed = store.get(aggregate_id)
        assert cached.version == replayed.version and cached == replayed


def test_another_writers_events_reach_the_next_command(two: tuple[Container, Container]) -> None:
    first, second = two[0].app, two[1].app
    org = Org(first)
    agreement = org.active()
    before = _reallocate(org, agreement.id, "Smoke tests")  # cached in the first service
    second.execute(org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(1)))
    # The first service decides on the second's change: the expected version holds...
    after = _reallocate(org, agreement.id, "Release notes", version=before.version + 1)
    assert len(after.adjustments) == len(before.adjustments) + 1
    assert after.version == before.version + 2
    # ... and its ledger, booked by both, counts both bookings.
    docs = c.ReallocateTask(
        agreement_id=agreement.id,
        task="Docs",
        hours_per_week=1,
        to_person_id=org.mate_id,
        reason="x",
    )
    assert second.execute(org.manager, docs).agreement is not None
    third = _reallocate(org, agreement.id, "Triage", version=after.version + 1)
    ledger: HoursLedger = first.repository.get(HoursLedger.id_for(org.mate_id))
    assert ledger.net_received == 4 and third.version == after.version + 2


def _race(apps: list[CraftingApplication], org: Org, agreement_id: UUID) -> Counter[str]:
    """`WRITERS` threads, alternating between the services, each adding an adjustment
    at the version the agreement is at now; their outcomes."""
    version = apps[0].repository.get(agreement_id).version
    barrier = threading.Barrier(WRITERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def add(i: int) -> None:
        barrier.wait()
        command = c.AddAdjustment(
            agreement_id=agreement_id,
            adjustment=draft(0, description=f"step {i}"),
            expected_version=version,
        )
        try:
            apps[i % 2].execute(org.manager, command)
            outcome = "ok"
        except DomainError as error:
            outcome = error.code
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=add, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_writers_of_two_services_each_win_one_version_at_a_time(
    two: tuple[Container, Container],
) -> None:
    apps = [two[0].app, two[1].app]
    org = Org(apps[0])
    agreement = org.active()
    for round_ in range(4):
        outcomes = _race(apps[round_ % 2 :] + apps[: round_ % 2], org, agreement.id)
        assert outcomes == Counter({"ok": 1, "VERSION_CONFLICT": WRITERS - 1}), outcomes
    for app in apps:
        assert app.repository.get(agreement.id).version == agreement.version + 4


def _reads(app: CraftingApplication) -> Counter[str]:
    """The event store's reads from now on, by method."""
    counted: Counter[str] = Counter()
    recorder = app.recorder
    for name in ("select_events", "select_events_past"):
        read = getattr(recorder, name, None)
        if read is not None:

            def counting(*args: Any, _read: Any = read, _name: str = name, **kwargs: Any) -> Any:
                counted[_name] += 1
                return _read(*args, **kwargs)

            setattr(recorder, name, counting)
    return counted


@pytest.mark.postgres
def test_a_command_reads_its_agreement_and_employee_in_one_statement(postgres_url: str) -> None:
    container = bootstrap(Settings(database_url=postgres_url))
    try:
        app = container.app
        org = Org(app)
        agreement = org.active()
        reads = _reads(app)
        added = org.run(
            org.manager, c.AddAdjustment(agreement_id=agreement.id, adjustment=draft(1))
        )
        assert reads == Counter({"select_events_past": 1})  # was two reads: agreement, employee
        assert added.version == agreement.version + 1
    finally:
        container.close()


def test_a_manager_changed_by_another_writer_decides_the_next_command(
    two: tuple[Container, Container],
) -> None:
    """Both the agreement and its employee are cached in the first service; the second
    moves the employee to another manager: the first decides on the new manager."""
    first, second = two[0].app, two[1].app
    org = Org(first)
    agreement = org.active()
    review = c.RecordReview(agreement_id=agreement.id, outcome="ON_TRACK", notes="ok")
    org.run(org.manager, review)  # both cached in the first service
    employee = second.find_person(org.employee_id)
    assert employee is not None
    moved = replace(employee.profile, manager_id=org.other_manager_id)
    second.execute(org.hr, c.UpsertPeople(people=[c.DirectoryEntry(org.employee_id, moved)]))
    with pytest.raises(Forbidden):
        first.execute(org.manager, review)
    assert org.run(org.other_manager, review).version == agreement.version + 2


@pytest.mark.postgres
def test_a_reallocation_reads_the_receiver_and_both_ledgers_in_one_statement(
    postgres_url: str,
) -> None:
    container = bootstrap(Settings(database_url=postgres_url))
    try:
        app = container.app
        org = Org(app)
        agreement = org.active()
        first = _reallocate(org, agreement.id, "Smoke tests")  # opens both ledgers
        reads = _reads(app)
        second = _reallocate(org, agreement.id, "Release notes")
        # Was four reads: the agreement and its employee, the receiver, each ledger.
        assert reads == Counter({"select_events_past": 2})
        assert second.version == first.version + 1
        for owner, net in ((org.mate_id, 2), (org.employee_id, -2)):
            ledger = app.find_ledger(owner)
            assert ledger is not None and ledger.net_received == net
    finally:
        container.close()


def test_ledgers_booked_by_another_writer_decide_the_next_reallocation(
    two: tuple[Container, Container],
) -> None:
    """Both ledgers and the receiver are cached in the first service (read together);
    the second books hours to the receiver: the first refuses what would now overload
    them, and the ledgers of both services agree."""
    first, second = two[0].app, two[1].app
    org = Org(first)
    agreement = org.active()
    _reallocate(org, agreement.id, "Smoke tests")
    _reallocate(org, agreement.id, "Release notes")  # everything cached in the first
    second.execute(
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="Support rota",
            hours_per_week=1.5,
            to_person_id=org.mate_id,
            reason="x",
        ),
    )
    with pytest.raises(ReceiverOverloaded):
        first.execute(
            org.manager,
            c.ReallocateTask(
                agreement_id=agreement.id,
                task="On-call",
                hours_per_week=1,
                to_person_id=org.mate_id,
                reason="x",
            ),
        )
    for app in (first, second):
        ledger = app.find_ledger(org.mate_id)
        assert ledger is not None and ledger.net_received == 3.5
