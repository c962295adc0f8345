"""The benchmarks' long agreement (bench.long_agreement) is grown through the service's
handlers and saved in batches: the stored history must be what running each command
through `execute` stores, and its snapshots what the service takes."""

from __future__ import annotations

from eventsourcing.application import Repository

from bench.long_agreement import LongAgreement, lift_child_limits
from bench.team import Team
from domain.agreement import CHILD_LIMITS
from domain.agreement.snapshot import takes_snapshot_at
from domain.application import CraftingApplication
from domain.integrity import plain

# What differs between two runs of the same commands: fresh ids, clocks, and the hashes
# that cover them.
_RUN_BOUND = {
    "timestamp",
    "id",
    "change_id",
    "guardrails_change_id",
    "correlation_id",
    "previous_hash",
    "reverted_change_id",
    "originator_id",
}


def _shape(app: CraftingApplication, aid: object) -> list[tuple[str, object]]:
    people = app.repository.get(aid)
    names = {people.employee_id: "employee", people.manager_id: "manager"}

    def kept(value: object) -> object:
        if isinstance(value, dict):
            return {k: kept(v) for k, v in value.items() if k not in _RUN_BOUND}
        if isinstance(value, list):
            return [kept(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    return [
        (type(e).__qualname__, kept(plain(dict(vars(e)))))  # type: ignore[misc]
        for e in app.events.get(aid)
    ][2:]  # after the proposal and approval, whose ids differ per team


def test_a_grown_agreement_stores_what_executing_each_command_stores(
    memory_app: CraftingApplication,
) -> None:
    limits = dict(CHILD_LIMITS)
    lift_child_limits()
    try:
        grown_team, run_team = Team(memory_app), Team(memory_app)
        grown = LongAgreement(grown_team, grown_team.active().id)
        executed = LongAgreement(run_team, run_team.active().id)
        assert grown.grow(450, batch=70) == 450
        while executed.current().version < 450:
            executed.execute()
    finally:
        CHILD_LIMITS.update(limits)

    replay = Repository(memory_app.events)  # events only, no snapshots
    assert memory_app.repository.get(grown.aid) == replay.get(grown.aid)
    assert len(_shape(memory_app, grown.aid)) == 448
    assert _shape(memory_app, grown.aid) == _shape(memory_app, executed.aid)
    assert len(grown.current().reviews) > 200  # the mix, past the child limits
    # Snapshots where the service takes them, each the replayed state at its version.
    assert memory_app.snapshots is not None
    snapshots = list(memory_app.snapshots.get(grown.aid))
    assert [s.originator_version for s in snapshots] == [
        v for v in range(1, 451) if takes_snapshot_at(v)
    ]
    for snapshot in snapshots:
        derived = type(snapshot).take(replay.get(grown.aid, version=snapshot.originator_version))
        assert plain(snapshot.state) == plain(derived.state)  # type: ignore[attr-defined]
