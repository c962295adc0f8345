"""What changed between two states of an agreement, field by field (before → after):
the timeline's "what changed" and the conflict a stale page is told about. Both states
come from the write model (`Commands.agreement_at`), which checks read access."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api import read_side
from api.ports import Ports
from api.read_side import Row, agreement_row
from domain.access import Actor
from domain.errors import DomainError

NONE = "—"
CONFLICT = "This agreement changed since you opened it. Reload the page to see what changed."
CHANGED = "This agreement changed since you opened it: "


@dataclass(frozen=True)
class Difference:
    what: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.what}: {self.before} → {self.after}"


def _text(value: Any) -> str:
    if value is None or value == [] or value == "":
        return NONE
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _word(value: Any) -> str:
    """An enum's value as a word (ACTIVE → active, ON_TRACK → on track)."""
    return str(value).replace("_", " ").lower()


FIELDS: tuple[tuple[str, Callable[[Row, Mapping[str, str]], Any]], ...] = (
    # (label, how to read it from an agreement row, given people's display names)
    ("Status", lambda a, _: _word(a["status"])),
    ("Title", lambda a, _: a["title"]),
    ("Target role", lambda a, _: a["target_role"]),
    ("Skills", lambda a, _: a["skills"]),
    ("Target date", lambda a, _: a["target_date"]),
    ("Next review", lambda a, _: a["next_review_on"]),
    ("Development hours per week", lambda a, _: a["development_hours"]),
    ("Approved by", lambda a, n: _person(a["approved_by_manager_id"], n)),
    ("Most development hours per week", lambda a, _: _guardrail(a, "maxDevelopmentHoursPerWeek")),
    ("Review every (days)", lambda a, _: _guardrail(a, "reviewEveryDays")),
    ("Protected responsibilities", lambda a, _: _guardrail(a, "protectedResponsibilities")),
    ("Guardrails end on", lambda a, _: _guardrail(a, "endsOn")),
)


def _person(person_id: str | None, names: Mapping[str, str]) -> str | None:
    return None if person_id is None else names.get(person_id, person_id)


def _guardrail(row: Row, key: str) -> Any:
    return (row["guardrails"] or {}).get(key)


def _children(row: Row, kind: str) -> list[Row]:
    build: Callable[[], list[Row]] = row["_children"][kind]
    return build()


Describe = Callable[[Row, Mapping[str, str]], str]
CHILDREN: tuple[tuple[str, str, str, Describe], ...] = (
    (
        "adjustments",
        "adjustment_id",
        "Adjustment",
        lambda r, _: (
            f"{r['description']} ({_word(r['kind'])}, {_text(r['hours_per_week'])} "
            f"h/week, {_word(r['status'])})"
        ),
    ),
    (
        "reallocations",
        "reallocation_id",
        "Reallocated task",
        lambda r, n: (
            f"{r['task']}: {_text(r['hours_per_week'])} h/week from "
            f"{n.get(r['from_person_id'], r['from_person_id'])} to "
            f"{n.get(r['to_person_id'], r['to_person_id'])} ({_word(r['status'])})"
        ),
    ),
    (
        "reviews",
        "review_id",
        "Review",
        lambda r, _: (
            f"{r['held_on']}: {_word(r['outcome'])}" + (f" — {r['notes']}" if r["notes"] else "")
        ),
    ),
    ("artifacts", "artifact_id", "Artifact", lambda r, _: f"{r['title']} ({_word(r['kind'])})"),
)


def differences(
    before: Row | None, after: Row, names: Mapping[str, str] | None = None
) -> list[Difference]:
    """The fields of two agreement rows (`projections.rows.agreement_row`, with their
    children) that differ, in page order; `before` None: the agreement was created."""
    shown = names or {}
    found = []
    for label, read in FIELDS:
        old = NONE if before is None else _text(read(before, shown))
        new = _text(read(after, shown))
        if old != new:
            found.append(Difference(label, old, new))
    for kind, key, label, describe in CHILDREN:
        olds = [] if before is None else _children(before, kind)
        for old_row, new_row in _paired(olds, _children(after, kind), key, describe, shown):
            old = NONE if old_row is None else describe(old_row, shown)
            new = NONE if new_row is None else describe(new_row, shown)
            if old != new:
                found.append(Difference(label, old, new))
    return found


# What still names the same item when its id is new: a revised proposal records every
# adjustment afresh (new ids), though the person changed one description.
SAME_ITEM = {"adjustment_id": ("kind", "hours_per_week"), "reallocation_id": ("task",)}


def _paired(
    olds: list[Row], news: list[Row], key: str, describe: Describe, names: Mapping[str, str]
) -> list[tuple[Row | None, Row | None]]:
    """Each item before beside itself after: by id; an item whose id is new beside a
    removed one that reads the same, else one with the same description, else one with
    the same other fields (a changed description); the rest were removed or added."""
    by_id = {r[key]: r for r in news}
    pairs: dict[int, tuple[Row | None, Row | None]] = {}
    left = [r for r in olds if r[key] not in by_id]
    added = [r for r in news if r[key] not in {o[key] for o in olds}]
    matchers: list[Callable[[Row], Any]] = [
        lambda r: describe(r, names),
        lambda r: r.get("description", r.get("task")),
        lambda r: tuple(r.get(f) for f in SAME_ITEM.get(key, ())) or None,
    ]
    matched: dict[int, Row] = {}  # index in olds → its new row
    for same in matchers:
        for i, old in enumerate(olds):
            if old in left and i not in matched:
                twin = next(
                    (n for n in added if same(n) is not None and same(n) == same(old)), None
                )
                if twin is not None:
                    matched[i] = twin
                    added.remove(twin)
    for i, old in enumerate(olds):
        pairs[i] = (old, by_id.get(old[key], matched.get(i)))
    return [*pairs.values(), *((None, n) for n in added)]


def people_in(*rows: Row | None) -> set[str]:
    """The people an agreement row names (the employee, reallocations' sides)."""
    ids: set[str] = set()
    for row in rows:
        if row is not None:
            ids.add(row["employee_id"])
            if row["approved_by_manager_id"]:
                ids.add(row["approved_by_manager_id"])
            for r in _children(row, "reallocations"):
                ids |= {r["from_person_id"], r["to_person_id"]}
    return ids


def names_of(ports: Ports, ids: set[str]) -> dict[str, str]:
    """Display names of these people (blocking)."""
    people = ports.reads.run(lambda conn, rm: read_side.people_by_id(conn, rm, ids))
    return {pid: p["display_name"] for pid, p in people.items()}


async def changed_since(ports: Ports, actor: Actor, agreement_id: UUID, version: int) -> str:
    """What a stale page is told: what changed between the version it showed and now
    (the plain message when that cannot be read)."""

    def read() -> tuple[Row, Row, dict[str, str]]:
        then = agreement_row(ports.commands.agreement_at(actor, agreement_id, version))
        now = agreement_row(ports.commands.agreement_at(actor, agreement_id))
        return then, now, names_of(ports, people_in(then, now))

    try:
        then, now, names = await asyncio.to_thread(read)
    except DomainError:
        return CONFLICT
    found = differences(then, now, names)
    if not found:
        return CONFLICT
    return CHANGED + "; ".join(str(d) for d in found) + "."
