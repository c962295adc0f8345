"""The crafting sketch drawn: before | after side by side, each block as tall as its share
of the week, its energy told by a pattern and a word (never by colour alone), and the
same facts as table rows for screen readers and for anyone who prefers numbers. The
geometry is worked out here; `_sketch.html` writes the SVG and the table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.read_side import sketch_of_row
from domain.sketch import BlockMove, CraftedBlock, Sketch, TaskBlock

WIDTH = 320  # viewBox units; the SVG scales to its container (no sideways scroll)
COLUMN = 140
GAP = 40  # between the columns
TOP = 28  # room for the column headings
HEIGHT = 360  # the whole week
SPACE = 2  # between blocks
# Characters that fit the column (less its padding): a name at 12 units, the facts at
# 11, in the widest of the fonts a browser may pick ("20%, energising, kept" did not).
CHARS_PER_LINE = 18
FACTS_PER_LINE = 19
SMALL = 8  # a block too short for a 12-unit line still gets one line at this size
SMALL_LINE = 28  # characters of that line (8 units)
ENERGY_WORDS = {"DRAINING": "draining", "NEUTRAL": "neutral", "ENERGISING": "energising"}
MOVE_WORDS = {
    BlockMove.KEPT: "kept",
    BlockMove.RESIZED: "resized",
    BlockMove.ADDED: "added",
    BlockMove.DROPPED: "dropped",
}


@dataclass(frozen=True)
class Drawn:
    """One block as drawn: its box and the lines written in it (as many as fit)."""

    x: float
    y: float
    width: float
    height: float
    energy: str  # the pattern's name
    lines: tuple[str, ...]
    title: str  # the block's whole description, for a pointer's tooltip
    small: bool = False  # one line in small type: the block is too short for more


@dataclass(frozen=True)
class Flow:
    """A band from a before-block to the after-block that carries it on."""

    points: str  # the polygon's points


@dataclass(frozen=True)
class Row:
    """One block in the table."""

    name: str
    share: float
    energy: str
    move: str | None = None  # after-blocks: kept, resized, added, dropped
    serves: str | None = None  # after-blocks: the adjustment, reallocation or skill


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    before: tuple[Drawn, ...]
    after: tuple[Drawn, ...]
    flows: tuple[Flow, ...]
    before_rows: tuple[Row, ...]
    after_rows: tuple[Row, ...]
    summary: str  # the picture's description for assistive technology


def _short(text: str, most: int = CHARS_PER_LINE) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def _wrapped(parts: list[str], most: int = FACTS_PER_LINE) -> list[str]:
    """The parts joined by commas, a line as long as fits, no part split."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 2 + len(part) <= most:
            lines[-1] += ", " + part
        else:
            lines.append(part)
    return lines


def _column(
    x: float, blocks: list[tuple[TaskBlock | CraftedBlock, str | None]]
) -> tuple[Drawn, ...]:
    drawn: list[Drawn] = []
    y = float(TOP)
    for block, move in blocks:
        height = HEIGHT * block.share / 100
        if height <= 0:
            continue
        energy = ENERGY_WORDS[block.energy]
        share = f"{block.share:g}%"
        facts = _wrapped([share, energy, *([move] if move else [])])
        room = max(0, int((height - SPACE - 4) // 14))  # lines of 14 units that fit
        lines = [_short(block.name), *facts][:room]
        small = not lines and height - SPACE >= SMALL
        if small:  # a thin block: its name and share in small type, on one line
            lines = [_short(block.name, SMALL_LINE - len(share) - 2) + ", " + share]
        drawn.append(
            Drawn(
                x,
                y,
                COLUMN,
                max(height - SPACE, 1),
                str(block.energy),
                tuple(lines),
                f"{block.name}: " + ", ".join([share, energy, *([move] if move else [])]),
                small,
            )
        )
        y += height
    return tuple(drawn)


def what_changed(block: CraftedBlock, before: dict[str, TaskBlock]) -> tuple[str, str]:
    """What happened to an after-block, short (in the picture) and whole (the table): the
    domain's move compares shares only, so a block whose energy changed says so."""
    move = block.move(before)
    source = before.get(block.from_block_id or "")
    if source is None or move is BlockMove.DROPPED or source.energy == block.energy:
        return MOVE_WORDS[move], MOVE_WORDS[move]
    was = f"was {ENERGY_WORDS[source.energy]}"
    if move is BlockMove.KEPT:
        return "energy changed", f"energy changed ({was})"
    return "resized, energy changed", f"resized, energy changed ({was})"


def picture(sketch: Sketch, serves: dict[str, str]) -> Picture:
    """The sketch drawn; `serves` names the adjustments and reallocations by id (what
    the table says an after-block serves)."""
    before = sketch.before_by_id()
    changes = [(b, what_changed(b, before)) for b in sketch.after]
    moves = [(b, short) for b, (short, _whole) in changes]
    after_rows = [
        Row(
            b.name,
            b.share,
            ENERGY_WORDS[b.energy],
            whole,
            "; ".join(
                part
                for part in (
                    serves.get(b.adjustment_id or b.reallocation_id or ""),
                    f"skill: {b.skill}" if b.skill else None,
                )
                if part
            )
            or None,
        )
        for b, (_short_move, whole) in changes
    ]
    after_rows += [
        Row(b.name, 0, ENERGY_WORDS[b.energy], "dropped") for b in sketch.dropped_before()
    ]
    summary = (
        f"Before: {len(sketch.before)} blocks. After: "
        f"{sum(1 for b in sketch.after if b.share > 0)} blocks; "
        f"{sketch.development_share():g}% of the week moved into development."
        if sketch.after
        else f"Before: {len(sketch.before)} blocks. The after-state is not drawn yet."
    )
    left = _column(0, [(b, None) for b in sketch.before])
    right = _column(COLUMN + GAP, [(b, m) for b, m in moves if b.share > 0])
    drawn_before = dict(zip((b.id for b in sketch.before if b.share > 0), left, strict=True))
    drawn_after = dict(zip((b.id for b in sketch.after if b.share > 0), right, strict=True))
    flows = tuple(
        Flow(
            f"{COLUMN},{source.y} {COLUMN + GAP},{target.y} "
            f"{COLUMN + GAP},{target.y + target.height} {COLUMN},{source.y + source.height}"
        )
        for b in sketch.after
        if (source := drawn_before.get(b.from_block_id or "")) is not None
        and (target := drawn_after.get(b.id)) is not None
    )
    return Picture(
        WIDTH,
        TOP + HEIGHT,
        left,
        right,
        flows,
        tuple(Row(b.name, b.share, ENERGY_WORDS[b.energy]) for b in sketch.before),
        tuple(after_rows),
        summary,
    )


def drawn_sketch(row: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> Drawing | None:
    """An agreement row's sketch and its picture (None while none is drawn), the
    after-blocks' links named by the agreement's adjustments and reallocations."""
    sketch = sketch_of_row(row)
    if sketch is None:
        return None
    serves = {
        a["adjustment_id"]: f"adjustment: {a['description']}"
        for a in children.get("adjustments", [])
    }
    serves |= {
        r["reallocation_id"]: f"reallocation: {r['task']}"
        for r in children.get("reallocations", [])
    }
    return Drawing(sketch, picture(sketch, serves))


@dataclass(frozen=True)
class Drawing:
    sketch: Sketch
    picture: Picture
