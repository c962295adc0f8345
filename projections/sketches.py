"""The crafting sketch as rows hold it (camelCase JSON, `camel_json` of the domain's
value), read back as the domain's value, for the front doors that show it."""

from __future__ import annotations

from typing import Any

from domain import sketch as domain


def sketch_value(data: dict[str, Any]) -> domain.Sketch:
    """The domain's sketch from its camelCase JSON (as rows hold it)."""
    return domain.Sketch(
        before=tuple(
            domain.TaskBlock(
                id=b["id"],
                name=b["name"],
                share=float(b["share"]),
                energy=domain.Energy(b["energy"]),
            )
            for b in data.get("before") or ()
        ),
        after=tuple(
            domain.CraftedBlock(
                id=b["id"],
                name=b["name"],
                share=float(b["share"]),
                energy=domain.Energy(b["energy"]),
                from_block_id=b.get("fromBlockId"),
                adjustment_id=b.get("adjustmentId"),
                reallocation_id=b.get("reallocationId"),
                skill=b.get("skill"),
            )
            for b in data.get("after") or ()
        ),
        relationships=tuple(
            domain.Relationship(
                id=r["id"],
                kind=domain.RelationshipKind(r["kind"]),
                person_id=r.get("personId"),
                name=r.get("name"),
                note=r.get("note"),
            )
            for r in data.get("relationships") or ()
        ),
        purpose=data.get("purpose"),
        development_reason=data.get("developmentReason"),
    )


def sketch_of_row(row: dict[str, Any]) -> domain.Sketch | None:
    """An agreement row's sketch, or None while none is drawn."""
    data = row.get("sketch")
    return None if data is None else sketch_value(data)
