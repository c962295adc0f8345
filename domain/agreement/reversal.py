"""Which reverts are allowed, and which reverts bring an agreement back to a version.

Adjustments and reallocations are independent toggles. Guardrails are one value, and
so is the sketch, so the changes of each form a stack: the effective changes, oldest
first, each one built on the value the previous one left. Only the top may be undone,
and a change is re-applied only on top of the value it was built on; that keeps every
revert exact.
"""

from __future__ import annotations

from domain.agreement.state import (
    AgreementState,
    chain_of,
    check_hours_within,
    check_nothing_protected_is_away,
    development_hours,
    head_of,
    is_in_effect,
)
from domain.errors import ChangeNotRevertible, ProtectedResponsibility
from domain.records import Change, ChangeKind


def check_revertible(agreement: AgreementState, head: Change) -> None:
    """Raise unless reverting `head` keeps every rule of the agreement."""
    if head.reverted_by is not None:
        raise ChangeNotRevertible(
            f"Change {head.id} was already reverted by change {head.reverted_by}; "
            "revert that change instead.",
            "changeId",
        )
    root = agreement.changes[head.root_id]
    reapplying = not is_in_effect(agreement, root.id)
    current = agreement.guardrails
    if root.kind is ChangeKind.GUARDRAILS_CHANGED:
        _check_guardrail_stack(agreement, root, head, reapplying)
        restored = head.guardrails_before
        if restored is not None:
            check_hours_within(restored, development_hours(agreement))
            check_nothing_protected_is_away(agreement, restored)
    elif root.kind is ChangeKind.SKETCH_CHANGED:
        _check_sketch_stack(agreement, root, head, reapplying)
    elif reapplying and root.kind is ChangeKind.ADJUSTMENT_ADDED and current is not None:
        hours = agreement.adjustments[root.subject_id].hours_per_week
        check_hours_within(current, development_hours(agreement) + hours)
    elif reapplying and root.kind is ChangeKind.TASK_REALLOCATED and current is not None:
        task = agreement.reallocations[root.subject_id].task
        if current.protects(task):
            raise ProtectedResponsibility(
                f"'{task}' is now a protected responsibility; the reallocation "
                "cannot be re-applied.",
                "changeId",
            )


def plan_revert_to_version(agreement: AgreementState, version: int) -> list[str]:
    """The chain heads to revert, in order, so the agreement's adjustments,
    reallocations and guardrails become what they were at `version`.

    Order: switch things off first, then rebuild the guardrail stack, then switch
    things back on — the end state is the (valid) state at `version`; receiver
    limits, which depend on other agreements, are checked by the caller.
    """
    roots = [c for c in agreement.changes.values() if c.root_id == c.id]
    toggles = [r for r in roots if r.kind not in _STACKED]
    off = [r for r in toggles if is_in_effect(agreement, r.id) and not _was(agreement, r, version)]
    on = [r for r in toggles if not is_in_effect(agreement, r.id) and _was(agreement, r, version)]
    ordered = list(off)
    for kind in _STACKED:
        stack = sorted((r for r in roots if r.kind is kind), key=lambda r: r.version)
        now = [r for r in stack if is_in_effect(agreement, r.id)]
        then = [r for r in stack if _was(agreement, r, version)]
        common = 0
        while common < min(len(now), len(then)) and now[common].id == then[common].id:
            common += 1
        ordered += list(reversed(now[common:])) + then[common:]
    ordered += on
    return [head_of(agreement, r.id) for r in ordered]


# The kinds of change whose changes stack on one value (see the module's docstring).
_STACKED = (ChangeKind.GUARDRAILS_CHANGED, ChangeKind.SKETCH_CHANGED)


def _was(agreement: AgreementState, root: Change, version: int) -> bool:
    """Whether the root change was in effect at `version`."""
    links = sum(1 for link in chain_of(agreement, root.id) if link.version <= version)
    return links % 2 == 1


def _check_guardrail_stack(
    agreement: AgreementState, root: Change, head: Change, reapplying: bool
) -> None:
    newer = [
        c
        for c in agreement.changes.values()
        if c.kind is ChangeKind.GUARDRAILS_CHANGED
        and c.version > root.version
        and is_in_effect(agreement, c.id)
    ]
    # A revert of a guardrail change holds the guardrails it left (`guardrails_after`):
    # it is undone only while they are still the ones in place.
    if newer or (reapplying and head.guardrails_after != agreement.guardrails):
        raise ChangeNotRevertible(
            "The guardrails were changed again after this change; revert the newer "
            "guardrail change first.",
            "changeId",
        )


def _check_sketch_stack(
    agreement: AgreementState, root: Change, head: Change, reapplying: bool
) -> None:
    newer = [
        c
        for c in agreement.changes.values()
        if c.kind is ChangeKind.SKETCH_CHANGED
        and c.version > root.version
        and is_in_effect(agreement, c.id)
    ]
    # A revert of a sketch change holds the sketch it left (`sketch_after`): it is
    # undone only while that sketch is still the one in place.
    if newer or (reapplying and head.sketch_after != agreement.sketch):
        raise ChangeNotRevertible(
            "The sketch was changed again after this change; revert the newer sketch change first.",
            "changeId",
        )
