"""The parts an agreement is made of, as immutable records (replaced, never edited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import ClassVar

from domain.sketch import Sketch
from domain.values import (
    AdjustmentKind,
    ArtifactKind,
    ChangeStatus,
    Guardrails,
    ReviewOutcome,
)


@dataclass(frozen=True, slots=True)
class Adjustment:
    PERSONAL: ClassVar[tuple[str, ...]] = ("description",)

    id: str
    change_id: str
    kind: AdjustmentKind
    description: str
    hours_per_week: float
    starts_on: date | None
    ends_on: date | None
    status: ChangeStatus = ChangeStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Reallocation:
    PERSONAL: ClassVar[tuple[str, ...]] = ("task", "reason")

    id: str
    change_id: str
    task: str
    hours_per_week: float
    from_person_id: str
    to_person_id: str
    effective_on: date
    reason: str
    status: ChangeStatus = ChangeStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Review:
    PERSONAL: ClassVar[tuple[str, ...]] = ("notes",)

    id: str
    held_on: date
    outcome: ReviewOutcome
    notes: str | None
    next_review_on: date
    held_by: str


@dataclass(frozen=True, slots=True)
class Artifact:
    PERSONAL: ClassVar[tuple[str, ...]] = ("title", "url", "skills")

    id: str
    title: str
    kind: ArtifactKind
    url: str | None
    skills: tuple[str, ...]
    recorded_by: str
    recorded_on: date


class ChangeKind(StrEnum):
    ADJUSTMENT_ADDED = "ADJUSTMENT_ADDED"
    TASK_REALLOCATED = "TASK_REALLOCATED"
    GUARDRAILS_CHANGED = "GUARDRAILS_CHANGED"
    SKETCH_CHANGED = "SKETCH_CHANGED"
    CHANGE_REVERTED = "CHANGE_REVERTED"


@dataclass(frozen=True, slots=True)
class Change:
    """A reversible step. Reverts form a chain on the original ("root") change:
    the newest link is the one in effect, and the chain's length says whether the
    root's effect currently holds (odd) or is undone (even)."""

    id: str
    kind: ChangeKind
    root_id: str
    subject_id: str  # the adjustment, reallocation, guardrail or sketch change it concerns
    version: int
    reverts: str | None = None
    reverted_by: str | None = None
    guardrails_before: Guardrails | None = None
    guardrails_after: Guardrails | None = None
    # The sketch a sketch change (or a revert of one) replaced, and the one it put in.
    sketch_before: Sketch | None = None
    sketch_after: Sketch | None = None

    @property
    def in_effect(self) -> bool:
        return self.reverted_by is None
