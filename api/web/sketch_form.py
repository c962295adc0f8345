"""The sketch editor's forms read into the domain's sketch. Each form edits one part
(the blocks before, the blocks after, the relationships, the purpose) as rows named
`<part>-<row>-<field>`; a row left blank is skipped and a row ticked "remove" dropped.
The part read replaces the same part of the sketch in place; the domain judges the
whole. A domain error names an item by its place among the rows kept: `where` puts it
back at its form row."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from api.web.checks import Checked, words_of
from api.web.forms import Submitted
from domain.sketch import CraftedBlock, Relationship, Sketch, TaskBlock

PARTS = ("before", "after", "relationships", "purpose")
MOST_ROWS = 30  # as the domain's MAX_BLOCKS and MAX_RELATIONSHIPS
PART_NAMES = {"before": "Block before", "after": "Block after", "relationships": "Relationship"}
# Domain field names, as the form calls them.
FORM_FIELDS = {
    "adjustmentId": "link",
    "reallocationId": "link",
    "personId": "person",
    "fromBlockId": "from",
}
_ITEM = re.compile(r"^(before|after|relationships)\[(\d+)\](?:\.(\w+))?$")
_ROW_FIELD = re.compile(r"^(before|after|relationships)-(\d+)-(\w+)$")
FIELD_WORDS = {"link": "serves", "from": "carries on", "person": "person", "share": "share (%)"}


@dataclass
class ReadPart:
    """A part as read: the sketch with it in place, and each kept item's form row."""

    sketch: Sketch
    rows: list[int] = field(default_factory=list)


def rows_in(form: Submitted, part: str) -> list[int]:
    """The form rows of `part` that were sent, in order."""
    found = {
        int(m.group(2)) for k in form.values if (m := _ROW_FIELD.match(k)) and m.group(1) == part
    }
    return sorted(i for i in found if i < MOST_ROWS)


def _blank(form: Submitted, part: str, row: int, names: tuple[str, ...]) -> bool:
    return all(not form.get(f"{part}-{row}-{n}").strip() for n in names)


def _removed(form: Submitted, part: str, row: int) -> bool:
    return form.get(f"{part}-{row}-remove") == "yes"


def read_part(form: Submitted, part: str, current: Sketch) -> ReadPart:
    """`current` with `part` as the form has it; FormErrors for values it cannot read."""
    checked = Checked(form, label)
    read = ReadPart(current)
    if part == "before":
        blocks = []
        for row in rows_in(form, part):
            if _removed(form, part, row) or _blank(form, part, row, ("name", "share")):
                continue
            share = checked.number(f"before-{row}-share")
            blocks.append(
                TaskBlock(
                    id=form.get(f"before-{row}-id"),
                    name=form.get(f"before-{row}-name"),
                    share=0.0 if share is None else share,
                    energy=form.get(f"before-{row}-energy"),  # type: ignore[arg-type]
                )
            )
            read.rows.append(row)
        kept = {b.id for b in blocks if b.id}
        # An after-block whose source block was removed carries nothing on any more: new.
        after = tuple(
            b
            if b.from_block_id in kept or b.from_block_id is None
            else replace(b, from_block_id=None)
            for b in current.after
        )
        read.sketch = replace(current, before=tuple(blocks), after=after)
    elif part == "after":
        crafted = []
        for row in rows_in(form, part):
            if _removed(form, part, row) or _blank(form, part, row, ("name", "share")):
                continue
            share = checked.number(f"after-{row}-share")
            link = form.get(f"after-{row}-link")
            kind, _, linked = link.partition(":")
            crafted.append(
                CraftedBlock(
                    id=form.get(f"after-{row}-id"),
                    name=form.get(f"after-{row}-name"),
                    share=0.0 if share is None else share,
                    energy=form.get(f"after-{row}-energy"),  # type: ignore[arg-type]
                    from_block_id=form.text(f"after-{row}-from"),
                    adjustment_id=linked or None if kind == "adjustment" else None,
                    reallocation_id=linked or None if kind == "reallocation" else None,
                    skill=form.text(f"after-{row}-skill"),
                )
            )
            read.rows.append(row)
        read.sketch = replace(
            current, after=tuple(crafted), development_reason=form.text("developmentReason")
        )
    elif part == "relationships":
        people = []
        for row in rows_in(form, part):
            if _removed(form, part, row) or _blank(form, part, row, ("person", "name", "note")):
                continue
            people.append(
                Relationship(
                    id=form.get(f"relationships-{row}-id"),
                    kind=form.get(f"relationships-{row}-kind"),  # type: ignore[arg-type]
                    person_id=form.text(f"relationships-{row}-person"),
                    name=form.text(f"relationships-{row}-name"),
                    note=form.text(f"relationships-{row}-note"),
                )
            )
            read.rows.append(row)
        read.sketch = replace(current, relationships=tuple(people))
    else:
        read.sketch = replace(current, purpose=form.text("purpose"))
    checked.done()
    return read


def label(name: str) -> str | None:
    """A form field's label, as the page words it ("Block after 2: share (%)")."""
    found = _ROW_FIELD.match(name)
    if found is None:
        return {
            "developmentReason": "Why the time differs",
            "purpose": "Purpose",
            "before": "The blocks before",
            "after": "The blocks after",
        }.get(name)
    part, row, what = found.groups()
    return f"{PART_NAMES[part]} {int(row) + 1}: {FIELD_WORDS.get(what, words_of(what))}"


def where(part: str, rows: list[int]) -> Callable[[str], str]:
    """The form field a domain field of `part` is shown at."""

    def at(domain_field: str) -> str:
        found = _ITEM.match(domain_field)
        if found is None:
            return domain_field if domain_field in ("developmentReason", "purpose") else part
        item_part, index, what = found.groups()
        number = int(index)
        row = rows[number] if number < len(rows) else number
        # An item's own error ("comes from a block that is not in before") is about
        # where it comes from (after-blocks) or who it names (relationships).
        own = "from" if item_part == "after" else "name"
        name = FORM_FIELDS.get(what, what) if what else own
        return f"{item_part}-{row}-{name}"

    return at


ROW_FIELDS = {
    "before": ("id", "name", "share", "energy"),
    "after": ("id", "name", "share", "energy", "from", "link", "skill"),
    "relationships": ("id", "kind", "person", "name", "note"),
}


def form_rows(
    part: str, sketch: Sketch, sent: Submitted | None, blank: int
) -> list[dict[str, str]]:
    """The rows a part's form shows: as sent (a refused or lengthened form) or as the
    sketch has them, then `blank` empty rows to add with; each with its form `row`."""
    if part == "purpose":
        return []
    names = ROW_FIELDS[part]
    rows: list[dict[str, str]] = []
    if sent is not None:
        for row in rows_in(sent, part):
            values = {n: sent.get(f"{part}-{row}-{n}") for n in (*names, "remove")}
            rows.append({**values, "row": str(row)})
    else:
        for index, item in enumerate(getattr(sketch, part)):
            rows.append({**_item_values(item), "row": str(index)})
    start = max((int(r["row"]) for r in rows), default=-1) + 1
    for row in range(start, min(start + blank, MOST_ROWS)):
        rows.append({n: "" for n in names} | {"row": str(row), "remove": ""})
    return rows


def _item_values(item: TaskBlock | CraftedBlock | Relationship) -> dict[str, str]:
    if isinstance(item, TaskBlock):
        return {"id": item.id, "name": item.name, "share": f"{item.share:g}", "energy": item.energy}
    if isinstance(item, CraftedBlock):
        link = (
            f"adjustment:{item.adjustment_id}"
            if item.adjustment_id
            else f"reallocation:{item.reallocation_id}"
            if item.reallocation_id
            else ""
        )
        return {
            "id": item.id,
            "name": item.name,
            "share": f"{item.share:g}",
            "energy": item.energy,
            "from": item.from_block_id or "",
            "link": link,
            "skill": item.skill or "",
            "remove": "",
        }
    return {
        "id": item.id,
        "kind": item.kind,
        "person": item.person_id or "",
        "name": item.name or "",
        "note": item.note or "",
        "remove": "",
    }
