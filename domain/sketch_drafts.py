"""A sketch as a caller sends it, checked field by field: texts cleaned, enums and
person ids checked, and ids given to the blocks and relationships sent without one.
The rules across fields are `domain.sketch.check_sketch`'s."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from domain.errors import InvalidInput
from domain.sketch import (
    MAX_BLOCKS,
    MAX_RELATIONSHIPS,
    CraftedBlock,
    Energy,
    Relationship,
    RelationshipKind,
    Sketch,
    TaskBlock,
)
from domain.values import choice, optional_text, person_id, text


def _id(given: str | None) -> str:
    """The id a caller gave (stripped), or a new one."""
    cleaned = (given or "").strip()
    return cleaned or str(uuid4())


def _optional_id(given: str | None) -> str | None:
    cleaned = (given or "").strip()
    return cleaned or None


def _block(block: TaskBlock, field: str) -> TaskBlock:
    return TaskBlock(
        id=_id(block.id),
        name=text(block.name, f"{field}.name", max_length=200),
        share=_share(block.share, f"{field}.share"),
        energy=choice(Energy, block.energy, f"{field}.energy"),
    )


def _share(value: float, field: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidInput(f"{field} must be a number.", field)
    return float(value)


def _crafted(block: CraftedBlock, field: str) -> CraftedBlock:
    return replace(
        block,
        id=_id(block.id),
        name=text(block.name, f"{field}.name", max_length=200),
        share=_share(block.share, f"{field}.share"),
        energy=choice(Energy, block.energy, f"{field}.energy"),
        from_block_id=_optional_id(block.from_block_id),
        adjustment_id=_optional_id(block.adjustment_id),
        reallocation_id=_optional_id(block.reallocation_id),
        skill=optional_text(block.skill, f"{field}.skill", max_length=100),
    )


def _relationship(item: Relationship, field: str) -> Relationship:
    pid = _optional_id(item.person_id)
    name = optional_text(item.name, f"{field}.name", max_length=200)
    if (pid is None) == (name is None):
        raise InvalidInput(
            f"{field} names either a person of the directory (personId) or a role "
            "outside it (name).",
            f"{field}.name",
        )
    return Relationship(
        id=_id(item.id),
        kind=choice(RelationshipKind, item.kind, f"{field}.kind"),
        person_id=None if pid is None else person_id(pid, f"{field}.personId"),
        name=name,
        note=optional_text(item.note, f"{field}.note", max_length=500, multiline=True),
    )


def validated_sketch(sketch: Sketch) -> Sketch:
    """The sketch with every field checked and cleaned (INVALID_INPUT naming the field)."""
    # Counted first: nothing of an oversized sketch is cleaned, field by field.
    for name, items, most in (
        ("before", sketch.before, MAX_BLOCKS),
        ("after", sketch.after, MAX_BLOCKS),
        ("relationships", sketch.relationships, MAX_RELATIONSHIPS),
    ):
        if len(items) > most:
            raise InvalidInput(f"A sketch holds at most {most} {name} items.", name)
    return Sketch(
        before=tuple(_block(b, f"before[{i}]") for i, b in enumerate(sketch.before)),
        after=tuple(_crafted(b, f"after[{i}]") for i, b in enumerate(sketch.after)),
        relationships=tuple(
            _relationship(r, f"relationships[{i}]") for i, r in enumerate(sketch.relationships)
        ),
        purpose=optional_text(sketch.purpose, "purpose", max_length=2000, multiline=True),
        development_reason=optional_text(
            sketch.development_reason, "developmentReason", max_length=2000, multiline=True
        ),
    )
