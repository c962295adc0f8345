"""Concurrent commands never lose or duplicate an event, never share a version, and
never push a receiver past the limit."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

from domain.agreement import Agreement
from domain.application import CraftingApplication
from domain.application import commands as c
from domain.directory_guard import GUARD_ID, DeactivationGuard, GuardPolicy
from domain.errors import DomainError
from domain.ledger import HoursLedger
from domain.person import Profile
from domain.values import CareerGoal, ChangeStatus, Role
from infra.bootstrap import bootstrap
from infra.settings import Settings
from tests.support import Org, draft, guardrails, request

THREADS = 8


def _race(action: Callable[[int], str], threads: int = THREADS) -> Counter[str]:
    """Start `threads` threads at once; count their outcomes (an unexpected exception
    counts as INTERNAL: its type)."""
    barrier = threading.Barrier(threads)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcome = action(i)
        except DomainError as error:
            outcome = error.code
        except Exception as error:
            outcome = f"INTERNAL: {type(error).__name__}: {error}"
        with lock:
            outcomes[outcome] += 1

    started = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=120)
    return outcomes


def _events_of(app: CraftingApplication, aggregate_id: UUID) -> list[object]:
    return list(app.events.get(aggregate_id))


def _check_one_winner_per_version(app: CraftingApplication) -> None:
    org = Org(app)
    agreement = org.active(rails=guardrails(40))
    total_wins = 0
    for _ in range(4):
        version = app.repository.get(agreement.id).version

        def add(i: int, version: int = version) -> str:
            app.execute(
                org.manager,
                c.AddAdjustment(
                    agreement_id=agreement.id,
                    adjustment=draft(0, description=f"step {i}"),
                    expected_version=version,
                ),
            )
            return "ok"

        outcomes = _race(add)
        assert outcomes == Counter({"ok": 1, "VERSION_CONFLICT": THREADS - 1}), outcomes
        total_wins += 1
    events = _events_of(app, agreement.id)
    assert len(events) == agreement.version + total_wins
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))


def _check_receiver_limit(app: CraftingApplication) -> None:
    org = Org(app)
    employees = [f"racer-{i}-{org.suffix}" for i in range(THREADS)]
    app.execute(
        org.hr,
        c.UpsertPeople(
            people=[
                c.DirectoryEntry(e, Profile(e, f"{e}@example.com", org.manager_id, "t", 40, True))
                for e in employees
            ]
        ),
    )
    agreements: list[UUID] = []
    for e in employees:
        proposed = app.execute(
            request(e, Role.EMPLOYEE),
            c.ProposeAgreement(title="Grow", career_goal=CareerGoal("Lead", ())),
        )
        assert proposed.agreement is not None
        agreements.append(
            org.run(
                org.manager,
                c.ApproveAgreement(agreement_id=proposed.agreement.id, guardrails=guardrails()),
            ).id
        )

    def give(i: int) -> str:
        app.execute(
            org.manager,
            c.ReallocateTask(
                agreement_id=agreements[i],
                task=f"Chore {i}",
                hours_per_week=1,
                to_person_id=org.mate_id,
                reason="Concurrent handover",
            ),
        )
        return "ok"

    outcomes = _race(give)
    assert outcomes["ok"] == 4, outcomes  # limit 4, one hour each: exactly four fit
    assert set(outcomes) <= {"ok", "RECEIVER_OVERLOADED"}, outcomes
    ledger: HoursLedger = app.repository.get(HoursLedger.id_for(org.mate_id))
    assert ledger.net_received == 4
    active = [
        r
        for aid in agreements
        for r in app.repository.get(aid).reallocations.values()
        if r.status is ChangeStatus.ACTIVE and r.to_person_id == org.mate_id
    ]
    assert len(active) == 4
    moved = sum(
        type(e).__name__ == "TaskReallocated" for aid in agreements for e in _events_of(app, aid)
    )
    assert moved == 4  # nothing duplicated, nothing lost
    assert len([e for e in _events_of(app, ledger.id) if type(e).__name__ == "Booked"]) == 4


def test_racing_on_one_agreement_gives_exactly_one_winner_per_version(database_url: str) -> None:
    container = bootstrap(Settings(database_url=database_url))
    try:
        _check_one_winner_per_version(container.app)
    finally:
        container.close()


def test_racing_reallocations_never_push_a_receiver_past_the_limit(database_url: str) -> None:
    container = bootstrap(Settings(database_url=database_url))
    try:
        _check_receiver_limit(container.app)
    finally:
        container.close()


def test_agreements_are_independent_under_concurrency(database_url: str) -> None:
    container = bootstrap(Settings(database_url=database_url))
    app = container.app
    try:
        org = Org(app)
        agreement = org.active(rails=guardrails(40))

        def add(i: int) -> str:  # no expectedVersion: retried until applied
            app.execute(
                org.manager,
                c.AddAdjustment(
                    agreement_id=agreement.id, adjustment=draft(0.25, description=f"s{i}")
                ),
            )
            return "ok"

        assert _race(add) == Counter({"ok": THREADS})
        final: Agreement = app.repository.get(agreement.id)
        assert final.version == agreement.version + THREADS
        assert final.development_hours() == 2 + THREADS * 0.25
    finally:
        container.close()


def test_racing_reverts_of_one_reallocation_apply_once_and_never_fail_internally(
    database_url: str,
) -> None:
    container = bootstrap(Settings(database_url=database_url))
    app = container.app
    try:
        org = Org(app)
        agreement = org.active()
        moved = org.run(
            org.manager,
            c.ReallocateTask(
                agreement_id=agreement.id,
                task="Smoke tests",
                hours_per_week=1,
                to_person_id=org.mate_id,
                reason="Frees time",
            ),
        )
        (reallocation,) = moved.reallocations.values()

        def revert(_: int) -> str:
            app.execute(
                org.manager,
                c.RevertChange(
                    agreement_id=agreement.id, change_id=reallocation.change_id, reason="Undo"
                ),
            )
            return "ok"

        outcomes = _race(revert, threads=16)
        assert outcomes["ok"] == 1, outcomes
        assert set(outcomes) <= {"ok", "CHANGE_NOT_REVERTIBLE"}, outcomes
        ledger: HoursLedger = app.repository.get(HoursLedger.id_for(org.mate_id))
        assert ledger.net_received == 0
        released = [e for e in _events_of(app, ledger.id) if type(e).__name__ == "Released"]
        assert len(released) == 1
    finally:
        container.close()


def _confirmed_waves(app: CraftingApplication) -> list[set[str]]:
    return [
        set(e.person_ids)  # type: ignore[attr-defined]
        for e in app.events.get(GUARD_ID)
        if isinstance(e, DeactivationGuard.HoldReleased) and e.confirmed
    ]


def test_hr_decides_only_on_the_wave_it_was_shown_while_the_provider_adds_to_it(
    database_url: str,
) -> None:
    """HR confirms the held wave it read while seven provider requests deactivate more
    people at the same moment: whichever commits first, HR's decision covers exactly the
    people it was shown, or is refused — never someone it has not seen."""
    container = bootstrap(Settings(database_url=database_url))
    app = container.app
    idp, hr = request("okta", Role.INTEGRATION), request("hana", Role.HR)
    policy = GuardPolicy(1000, 0.0, timedelta(hours=1), 0)  # every deactivation is held

    def push(pid: str, active: bool) -> None:
        profile = Profile(pid, f"{pid}@example.com", None, "qa", 40, active)
        app.execute(idp, c.UpsertPeople(people=[c.DirectoryEntry(pid, profile)], guard=policy))

    try:
        for pid in (f"p{i:02}" for i in range(THREADS * 5)):
            push(pid, True)
        refused = 0
        for round_ in range(5):
            mine = [f"p{THREADS * round_ + i:02}" for i in range(THREADS)]
            push(mine[0], False)  # held: the wave HR is shown
            shown = tuple(pid for pid, _ in app.held_deactivations())
            assert shown == (mine[0],)
            before = len(_confirmed_waves(app))

            def act(i: int, shown: tuple[str, ...] = shown, mine: list[str] = mine) -> str:
                if i == 0:
                    app.execute(hr, c.ConfirmDeactivations(people=shown))
                else:
                    push(mine[i], False)
                return "ok"

            outcomes = _race(act)
            assert set(outcomes) <= {"ok", "VERSION_CONFLICT"}, outcomes
            refused += outcomes["VERSION_CONFLICT"]
            assert _confirmed_waves(app)[before:] in ([], [set(shown)])
            # Whatever is still held is dismissed as it is now, before the next round.
            held = tuple(pid for pid, _ in app.held_deactivations())
            if held:
                app.execute(hr, c.DismissDeactivations(people=held))
        assert refused + len(_confirmed_waves(app)) == 5
    finally:
        container.close()
