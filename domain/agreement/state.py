"""An agreement's state and the plain functions that change and judge it.

The events apply these changes and the commands and the reversal planner judge with
them, so all three depend on this module and on nothing of each other (no cycle).
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import replace
from datetime import date
from typing import Protocol

from domain.errors import GuardrailExceeded, ProtectedResponsibility
from domain.packing import RecordLog
from domain.records import Adjustment, Artifact, Change, ChangeKind, Reallocation, Review
from domain.sketch import Sketch
from domain.values import AgreementStatus, CareerGoal, ChangeStatus, Guardrails


class AgreementState(Protocol):
    """What an agreement holds (the aggregate is the one implementation)."""

    version: int
    employee_id: str
    title: str
    career_goal: CareerGoal
    status: AgreementStatus
    manager_id: str | None
    approved_version: int | None
    guardrails: Guardrails | None
    next_review_on: date | None
    sketch: Sketch | None
    # Dicts, or RecordTables when loaded from a snapshot (domain.packing).
    adjustments: MutableMapping[str, Adjustment]
    reallocations: MutableMapping[str, Reallocation]
    reviews: RecordLog[Review]
    artifacts: RecordLog[Artifact]
    # Each change's chain (its root, then the reverts of it in turn) is not held apart:
    # it is the root followed through `reverted_by` (see `chain_of`).
    changes: MutableMapping[str, Change]
    # The adjustments in effect, counted and their hours summed as the events change
    # them (`development_hours`): a command never scans every adjustment.
    active_adjustments: int
    active_hours: float


# --- reading the state ----------------------------------------------------------


def development_hours(state: AgreementState) -> float:
    """Hours per week of the adjustments in effect: what `hours_in_effect` gives over
    every adjustment (`scanned_hours`), kept as the events add and revert them
    (`add_adjustment`, `revert`), so a command on a long agreement does not read them all.

    Equal to the scan, value and type: hours are quarter hours (domain.values.HOURS_STEP),
    whose float sums and differences are exact in any order, and the scan of no
    adjustment in effect is the int 0."""
    return state.active_hours if state.active_adjustments else 0


def scanned_hours(state: AgreementState) -> float:
    """`development_hours` worked out from every adjustment (for snapshots taken before
    it was kept, and to check it)."""
    return hours_in_effect((a.hours_per_week, a.status) for a in state.adjustments.values())


def counted_in_effect(adjustments: Iterable[Adjustment]) -> tuple[int, float]:
    """How many of these adjustments are in effect, and their hours (what a snapshot
    taken before they were kept as they change starts from)."""
    active = [a.hours_per_week for a in adjustments if a.status == ChangeStatus.ACTIVE]
    return len(active), float(hours_in_effect((h, ChangeStatus.ACTIVE) for h in active))


def _count_in_effect(state: AgreementState, adjustment: Adjustment, sign: int) -> None:
    """An adjustment comes into effect (`sign` 1) or goes out of it (-1)."""
    state.active_adjustments += sign
    state.active_hours += sign * adjustment.hours_per_week


def hours_in_effect(adjustments: Iterable[tuple[float, str]]) -> float:
    """The development hours of (hours per week, status) pairs: the sum over those in
    effect. The aggregate's running count agrees with it (`development_hours`, judging
    rule 2); the read model derives its
    `development_hours` with it (projections/projector.py), so both sum alike."""
    return sum(hours for hours, status in adjustments if status == ChangeStatus.ACTIVE)


def chain_of(state: AgreementState, root_id: str) -> list[Change]:
    """A root change's chain: the root, then the reverts of it in turn (each reverts the
    one before it; only a chain's head may be reverted, so each change has at most one
    `reverted_by` and the chain is a line).

    The chains used to be held apart (root -> link ids), copied into every snapshot and
    before every command, and growing with every change; they are the changes followed
    through `reverted_by`, which a snapshot's changes already hold (worked out when a
    stored chunk is read: domain.packing.RecordTable), so they cost nothing until a
    command reads one, and then the length of that chain."""
    link = state.changes[root_id]
    chain = [link]
    while link.reverted_by is not None:
        link = state.changes[link.reverted_by]
        chain.append(link)
    return chain


def head_of(state: AgreementState, root_id: str) -> str:
    """The id of the last change of a root's chain (the one a revert would undo)."""
    return chain_of(state, root_id)[-1].id


def is_in_effect(state: AgreementState, root_id: str) -> bool:
    """Whether a root change is in effect: reverted an even number of times."""
    return len(chain_of(state, root_id)) % 2 == 1


def check_hours_within(guardrails: Guardrails, total: float) -> None:
    """GUARDRAIL_EXCEEDED unless `total` development hours fit the guardrails."""
    limit = guardrails.max_development_hours_per_week
    if total > limit:
        raise GuardrailExceeded(
            f"Active adjustments would total {total:g} hours per week, "
            f"above the guardrail of {limit:g}.",
            "hoursPerWeek",
        )


def check_nothing_protected_is_away(state: AgreementState, guardrails: Guardrails) -> None:
    """PROTECTED_RESPONSIBILITY if a task these guardrails protect is reallocated now."""
    for item in state.reallocations.values():
        if item.status is ChangeStatus.ACTIVE and guardrails.protects(item.task):
            raise ProtectedResponsibility(
                f"'{item.task}' is currently reallocated; revert that reallocation "
                "before protecting it.",
                "guardrails.protectedResponsibilities",
            )


# --- changing the state (only events call these) --------------------------------


def add_change(state: AgreementState, change: Change) -> None:
    """Record a change (a revert joins its root's chain by the `reverted_by` the
    reverted change gets: `revert`)."""
    state.changes[change.id] = change


def add_adjustment(state: AgreementState, adjustment: Adjustment, version: int) -> None:
    """Hold an adjustment, and the change that added it."""
    state.adjustments[adjustment.id] = adjustment
    if adjustment.status == ChangeStatus.ACTIVE:
        _count_in_effect(state, adjustment, 1)
    add_change(
        state,
        Change(
            adjustment.change_id,
            ChangeKind.ADJUSTMENT_ADDED,
            adjustment.change_id,
            adjustment.id,
            version,
        ),
    )


def add_reallocation(state: AgreementState, item: Reallocation, version: int) -> None:
    """Hold a reallocation, and the change that made it."""
    state.reallocations[item.id] = item
    add_change(
        state,
        Change(item.change_id, ChangeKind.TASK_REALLOCATED, item.change_id, item.id, version),
    )


def set_guardrails(
    state: AgreementState, change_id: str, guardrails: Guardrails, version: int
) -> None:
    """Put guardrails in place, as a change that knows what it replaced."""
    before = state.guardrails
    state.guardrails = guardrails
    add_change(
        state,
        Change(
            change_id,
            ChangeKind.GUARDRAILS_CHANGED,
            change_id,
            change_id,
            version,
            guardrails_before=before,
            guardrails_after=guardrails,
        ),
    )


def set_sketch(state: AgreementState, change_id: str, sketch: Sketch, version: int) -> None:
    """Put a sketch in place, as a change that knows the sketch it replaced."""
    before = state.sketch
    state.sketch = sketch
    add_change(
        state,
        Change(
            change_id,
            ChangeKind.SKETCH_CHANGED,
            change_id,
            change_id,
            version,
            sketch_before=before,
            sketch_after=sketch,
        ),
    )


def revert(state: AgreementState, head_id: str, change_id: str, version: int) -> Change:
    """Undo the chain head `head_id` with the change `change_id`; returns the chain's
    root, whose subject is now switched on or off (or whose guardrails or sketch are
    restored)."""
    head = state.changes[head_id]
    state.changes[head.id] = replace(head, reverted_by=change_id)
    root = state.changes[head.root_id]
    add_change(
        state,
        Change(
            change_id,
            ChangeKind.CHANGE_REVERTED,
            root.id,
            root.subject_id,
            version,
            reverts=head.id,
            guardrails_before=head.guardrails_after,
            guardrails_after=head.guardrails_before,
            sketch_before=head.sketch_after,
            sketch_after=head.sketch_before,
        ),
    )
    status = ChangeStatus.ACTIVE if is_in_effect(state, root.id) else ChangeStatus.REVERTED
    if root.kind is ChangeKind.ADJUSTMENT_ADDED:
        adjustment = state.adjustments[root.subject_id]
        state.adjustments[root.subject_id] = replace(adjustment, status=status)
        if adjustment.status != status:
            _count_in_effect(state, adjustment, 1 if status is ChangeStatus.ACTIVE else -1)
    elif root.kind is ChangeKind.TASK_REALLOCATED:
        item = state.reallocations[root.subject_id]
        state.reallocations[root.subject_id] = replace(item, status=status)
    elif root.kind is ChangeKind.SKETCH_CHANGED:
        state.sketch = head.sketch_before
    else:
        state.guardrails = head.guardrails_before
    return root
