"""The crafting sketch as GraphQL reads it (from the camelCase JSON the read model and
the write model's rows hold) and as `setSketch` takes it."""

from __future__ import annotations

from typing import Any

import strawberry

from api.graphql.commands import ValueInput
from api.graphql.enums import BlockMove, Energy, RelationshipKind
from domain import sketch as domain
from projections.sketches import sketch_value

SHARE = "Percent of the working week (steps of 0.5)."


@strawberry.type(description="A block of the job as it is: a task and its share of time.")
class SketchBlock:
    id: strawberry.ID
    name: str
    share: float = strawberry.field(description=SHARE)
    energy: Energy


@strawberry.type(description="A block of the job as crafted.")
class CraftedBlock:
    id: strawberry.ID
    name: str
    share: float = strawberry.field(description=SHARE)
    energy: Energy
    move: BlockMove = strawberry.field(
        description="What happened to its time: read from its source block and share."
    )
    from_block_id: strawberry.ID | None = strawberry.field(
        description="The block of `before` it carries on (none: added)."
    )
    adjustment_id: strawberry.ID | None
    reallocation_id: strawberry.ID | None
    skill: str | None = strawberry.field(description="A skill of the career goal it builds.")


@strawberry.type(description="Someone to build a relationship with.")
class SketchRelationship:
    id: strawberry.ID
    kind: RelationshipKind
    person_id: str | None = strawberry.field(description="A person of the directory.")
    name: str | None = strawberry.field(description="A role outside the directory.")
    note: str | None


@strawberry.type(
    description="The job crafting sketch: the job before and after, the relationships to "
    "build and the purpose of the work."
)
class Sketch:
    before: list[SketchBlock]
    after: list[CraftedBlock]
    dropped: list[SketchBlock] = strawberry.field(
        description="Blocks of `before` that the after-state does not carry on."
    )
    relationships: list[SketchRelationship]
    purpose: str | None
    development_share: float = strawberry.field(
        description="Percent of the week moved into development: what blocks linked to an "
        "adjustment or a skill gained over their source blocks."
    )
    development_reason: str | None = strawberry.field(
        description="Why the time moved into development differs from the development hours."
    )


def _shown(block: domain.TaskBlock) -> SketchBlock:
    return SketchBlock(
        id=strawberry.ID(block.id), name=block.name, share=block.share, energy=block.energy
    )


def sketch_from_json(data: dict[str, Any] | None) -> Sketch | None:
    """The sketch as a row holds it (camelCase JSON), or None while none is drawn."""
    if data is None:
        return None
    value = sketch_value(data)
    before = value.before_by_id()
    return Sketch(
        before=[_shown(b) for b in value.before],
        after=[
            CraftedBlock(
                id=strawberry.ID(b.id),
                name=b.name,
                share=b.share,
                energy=b.energy,
                move=b.move(before),
                from_block_id=_id(b.from_block_id),
                adjustment_id=_id(b.adjustment_id),
                reallocation_id=_id(b.reallocation_id),
                skill=b.skill,
            )
            for b in value.after
        ],
        dropped=[_shown(b) for b in value.dropped_before()],
        relationships=[
            SketchRelationship(
                id=strawberry.ID(r.id),
                kind=r.kind,
                person_id=r.person_id,
                name=r.name,
                note=r.note,
            )
            for r in value.relationships
        ],
        purpose=value.purpose,
        development_share=value.development_share(),
        development_reason=value.development_reason,
    )


def _id(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


ID_HELP = "Give one to refer to this block from `after` (fromBlockId); default: a new id."


@strawberry.input
class SketchBlockInput(ValueInput):
    VALUE = domain.TaskBlock
    name: str
    share: float = strawberry.field(description=SHARE)
    energy: Energy
    id: strawberry.ID | None = strawberry.field(default=None, description=ID_HELP)


@strawberry.input
class CraftedBlockInput(ValueInput):
    VALUE = domain.CraftedBlock
    name: str
    share: float = strawberry.field(description=SHARE + " 0 with fromBlockId: dropped.")
    energy: Energy
    id: strawberry.ID | None = None
    from_block_id: strawberry.ID | None = strawberry.field(
        default=None, description="The `before` block it carries on (none: added)."
    )
    adjustment_id: strawberry.ID | None = None
    reallocation_id: strawberry.ID | None = None
    skill: str | None = strawberry.field(
        default=None, description="One of the career goal's skills."
    )


@strawberry.input
class SketchRelationshipInput(ValueInput):
    VALUE = domain.Relationship
    kind: RelationshipKind
    person_id: str | None = strawberry.field(
        default=None, description="A person of the directory (or give `name`)."
    )
    name: str | None = strawberry.field(
        default=None, description="A role outside the directory (or give `personId`)."
    )
    note: str | None = None
    id: strawberry.ID | None = None


@strawberry.input
class SketchInput(ValueInput):
    VALUE = domain.Sketch
    before: list[SketchBlockInput] = strawberry.field(default_factory=list)
    after: list[CraftedBlockInput] = strawberry.field(default_factory=list)
    relationships: list[SketchRelationshipInput] = strawberry.field(default_factory=list)
    purpose: str | None = None
    development_reason: str | None = strawberry.field(
        default=None,
        description="Why the time moved into development differs from the agreement's "
        "development hours (required when it does).",
    )
