"""The crafting sketch (Berg, Dutton and Wrzesniewski's Job Crafting Exercise): the
job before as blocks of tasks sized by their share of time and marked by the energy
they take or give, the job after (blocks kept, resized, added, dropped), the
relationships to build and the purpose of the work, as one immutable value.

What happened to a block is not entered but read from it (`move`): an after-block
without a source is added, one with a share of 0 dropped, one with its source's share
kept, any other resized. A before-block no after-block names is dropped once there is
an after-state. The rules that keep a sketch honest are `check_sketch`'s.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import ClassVar

from domain.errors import InvalidInput

MAX_BLOCKS = 30
MAX_RELATIONSHIPS = 30
SHARE_STEP = 0.5  # percent: finer than anyone can say of their week
SHARES_TOLERANCE = 0.5  # percentage points the shares may miss 100 by (rounding)
# Percentage points the time moved into development may miss the agreement's
# development hours by: a person rounds their week to half-percent steps, and one point
# of a 40-hour week is 24 minutes, under the quarter hours the hours are counted in.
DEVELOPMENT_TOLERANCE = 1.0
_BLOCK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Energy(StrEnum):
    DRAINING = "DRAINING"
    NEUTRAL = "NEUTRAL"
    ENERGISING = "ENERGISING"


class BlockMove(StrEnum):
    KEPT = "KEPT"
    RESIZED = "RESIZED"
    ADDED = "ADDED"
    DROPPED = "DROPPED"


class RelationshipKind(StrEnum):
    MENTOR = "MENTOR"
    STAKEHOLDER = "STAKEHOLDER"
    SHADOWING = "SHADOWING"


@dataclass(frozen=True, slots=True)
class TaskBlock:
    """A block of the job as it is: a task, its share of the week and its energy."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("name",)

    id: str
    name: str
    share: float  # percent of the working week
    energy: Energy


@dataclass(frozen=True, slots=True)
class CraftedBlock:
    """A block of the job as crafted, from a before-block (`from_block_id`) or new, and
    what it serves: an adjustment or reallocation of the agreement, a skill of its goal."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("name", "skill")

    id: str
    name: str
    share: float
    energy: Energy
    from_block_id: str | None = None
    adjustment_id: str | None = None
    reallocation_id: str | None = None
    skill: str | None = None

    def move(self, before: dict[str, TaskBlock]) -> BlockMove:
        """What happened to its time: kept, resized, added or dropped."""
        source = before.get(self.from_block_id or "")
        if source is None:
            return BlockMove.ADDED
        if self.share == 0:
            return BlockMove.DROPPED
        return BlockMove.KEPT if self.share == source.share else BlockMove.RESIZED

    @property
    def develops(self) -> bool:
        """Whether its time is development time: it serves an adjustment or a skill."""
        return self.adjustment_id is not None or self.skill is not None


@dataclass(frozen=True, slots=True)
class Relationship:
    """Someone to build a relationship with: a person of the directory (`person_id`) or a
    role outside it (`name`), as a mentor, a stakeholder, or someone to shadow."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("name", "note")

    id: str
    kind: RelationshipKind
    person_id: str | None = None
    name: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Sketch:
    PERSONAL: ClassVar[tuple[str, ...]] = ("purpose", "development_reason")

    before: tuple[TaskBlock, ...] = ()
    after: tuple[CraftedBlock, ...] = ()
    relationships: tuple[Relationship, ...] = ()
    purpose: str | None = None
    # Why the time moved into development differs from the development hours.
    development_reason: str | None = None

    def before_by_id(self) -> dict[str, TaskBlock]:
        return {b.id: b for b in self.before}

    def development_share(self) -> float:
        """Percent of the week moved into development: what development blocks gained
        over their before-blocks (all of an added one's share)."""
        before = self.before_by_id()
        moved = 0.0
        for block in self.after:
            if block.develops:
                source = before.get(block.from_block_id or "")
                moved += block.share - (source.share if source else 0.0)
        return moved

    def dropped_before(self) -> tuple[TaskBlock, ...]:
        """Before-blocks the after-state does not carry on (none while it is empty)."""
        if not self.after:
            return ()
        named = {b.from_block_id for b in self.after if b.share > 0}
        return tuple(b for b in self.before if b.id not in named)


def without_links_to(sketch: Sketch, adjustment_ids: frozenset[str]) -> Sketch:
    """The sketch with its after-blocks' links to adjustments not in `adjustment_ids`
    dropped (a revised proposal's adjustments are new ones: links to the old mean
    nothing any more)."""
    after = tuple(
        b if b.adjustment_id is None or b.adjustment_id in adjustment_ids else _unlinked(b)
        for b in sketch.after
    )
    return sketch if after == sketch.after else replace(sketch, after=after)


def _unlinked(block: CraftedBlock) -> CraftedBlock:
    return replace(block, adjustment_id=None)


def expected_development_share(development_hours: float, contracted_hours: float) -> float:
    """The agreement's development hours as a percent of the contracted week."""
    return development_hours / contracted_hours * 100


def check_sketch(
    sketch: Sketch,
    *,
    development_hours: float,
    contracted_hours: float | None,
    adjustment_ids: Container[str],
    reallocation_ids: Container[str],
    skills: tuple[str, ...],
) -> None:
    """INVALID_INPUT unless the sketch keeps its rules: shares in half-percent steps that
    add up to 100 (each state, once drawn); ids unique; every after-block's source a
    before-block (each taken once), its links the agreement's own adjustments,
    reallocations and career-goal skills; and the time moved into development as the
    agreement's development hours of the contracted week, or a reason why not."""
    states: tuple[tuple[str, tuple[TaskBlock | CraftedBlock, ...]], ...] = (
        ("before", sketch.before),
        ("after", sketch.after),
    )
    for name, blocks in states:
        if len(blocks) > MAX_BLOCKS:
            raise InvalidInput(f"A sketch holds at most {MAX_BLOCKS} blocks {name}.", name)
        for index, block in enumerate(blocks):
            _check_share(block.share, f"{name}[{index}].share")
        total = sum(b.share for b in blocks)
        if blocks and abs(total - 100) > SHARES_TOLERANCE:
            raise InvalidInput(
                f"The blocks {name} crafting take {total:g}% of the week; their shares "
                "must add up to 100%.",
                name,
            )
    if len(sketch.relationships) > MAX_RELATIONSHIPS:
        raise InvalidInput(
            f"A sketch holds at most {MAX_RELATIONSHIPS} relationships.", "relationships"
        )
    ids = (
        [b.id for b in sketch.before]
        + [b.id for b in sketch.after]
        + [r.id for r in sketch.relationships]
    )
    for given in ids:
        if not _BLOCK_ID.fullmatch(given):
            raise InvalidInput("An id in a sketch is 1 to 64 letters, digits, - or _.", "id")
    if len(set(ids)) != len(ids):
        raise InvalidInput("Two blocks or relationships of the sketch have the same id.", "id")
    _check_after(sketch, adjustment_ids, reallocation_ids, skills)
    if sketch.after and contracted_hours and sketch.development_reason is None:
        moved = sketch.development_share()
        expected = expected_development_share(development_hours, contracted_hours)
        if abs(moved - expected) > DEVELOPMENT_TOLERANCE:
            raise InvalidInput(
                f"The sketch moves {moved:g}% of the week into development, but the "
                f"agreement's {development_hours:g} development hours are {expected:.1f}% of "
                f"{contracted_hours:g} contracted hours. Resize the blocks, or say why they "
                "differ.",
                "developmentReason",
            )


def _check_share(share: float, field: str) -> None:
    if share != share or not 0 <= share <= 100:  # NaN compares unequal to itself
        raise InvalidInput(f"{field} must be between 0 and 100 percent.", field)
    if share / SHARE_STEP != int(share / SHARE_STEP):
        raise InvalidInput(f"{field} must be in steps of {SHARE_STEP:g} percent.", field)


def _check_after(
    sketch: Sketch,
    adjustment_ids: Container[str],
    reallocation_ids: Container[str],
    skills: tuple[str, ...],
) -> None:
    before = sketch.before_by_id()
    taken: set[str] = set()
    known_skills = {s.casefold() for s in skills}
    for index, block in enumerate(sketch.after):
        field = f"after[{index}]"
        source = block.from_block_id
        if source is not None:
            if source not in before:
                raise InvalidInput(f"{field} comes from a block that is not in before.", field)
            if source in taken:
                raise InvalidInput(f"{field} comes from a block already carried on.", field)
            taken.add(source)
        elif block.share == 0:
            raise InvalidInput(f"{field} is new and needs a share of time.", f"{field}.share")
        if block.adjustment_id is not None and block.reallocation_id is not None:
            raise InvalidInput(
                f"{field} links to an adjustment or a reallocation, not both.", field
            )
        if block.adjustment_id is not None and block.adjustment_id not in adjustment_ids:
            raise InvalidInput(
                f"{field} links to an adjustment this agreement does not have.",
                f"{field}.adjustmentId",
            )
        if block.reallocation_id is not None and block.reallocation_id not in reallocation_ids:
            raise InvalidInput(
                f"{field} links to a reallocation this agreement does not have.",
                f"{field}.reallocationId",
            )
        if block.skill is not None and block.skill.casefold() not in known_skills:
            raise InvalidInput(
                f"{field} names a skill that is not one of the career goal's.", f"{field}.skill"
            )
