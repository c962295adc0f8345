"""The skills named by goals and artifacts, kept one row per name (`insight_skills`)
with keyed hashes of the skill's key and spelling (projections.insights.keyed), so the
skills tables are counted in SQL and only the labels shown are opened, instead of every
approved goal's and artifact's sealed list opened per request (docs/insights.md).

A goal's rows are written when its agreement is approved (its goal can no longer
change then: a proposal is revised only before), an artifact's when it is recorded;
neither changes after. So the goals' rows are those of approved agreements, and the
artifacts' rows are counted for the people with an approved agreement, as
`figures.skills_table` counts them. An erased person's rows lose their hashes (`erase`):
their skills become unreadable, as the full computation reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, func, select, update

from projections.insights.figures import UNREAD, Table, released_skills
from projections.insights.keyed import GroupHasher
from projections.tables import ReadModel

GOAL, EVIDENCE = "goal", "evidence"
CHUNK = 500
Opener = Callable[[Any], Any]


def skill_rows(
    source: str,
    item_id: str,
    agreement_id: str,
    person_id: str,
    skills: Iterable[str],
    position: int,
    hasher: GroupHasher,
) -> list[dict[str, Any]]:
    """The rows of one goal's or artifact's skills (stored texts: envelopes)."""
    rows = []
    for seq, skill in enumerate(skills):
        key, spelling = hasher.hashes(skill)
        rows.append(
            {
                "item_id": item_id,
                "seq": seq,
                "source": source,
                "agreement_id": agreement_id,
                "person_id": person_id,
                "skill_key": key,
                "spelling": spelling,
                "label": skill,
                "position": position,
            }
        )
    return rows


def erase(conn: Connection, rm: ReadModel, people: Iterable[str]) -> None:
    """The erased people's skills can no longer be read: no hashes."""
    t = rm.insight_skills
    erased = sorted(people)
    for start in range(0, len(erased), CHUNK):
        conn.execute(
            update(t)
            .where(t.c.person_id.in_(erased[start : start + CHUNK]))
            .values(skill_key=None, spelling=None)
        )


def skills_tables(
    conn: Connection, rm: ReadModel, population: int, minimum: int, opener: Opener
) -> tuple[Table, Table]:
    """Skills targeted (approved goals) and evidenced (artifacts of people with an
    approved agreement), released from the kept rows."""
    t, a = rm.insight_skills, rm.agreements
    approved = a.c.approved_at.is_not(None)
    eligible = {
        GOAL: t.c.source == GOAL,  # written on approval
        EVIDENCE: t.c.person_id.in_(select(a.c.employee_id).where(approved)),
    }
    targeted, evidenced = (
        _table(
            conn, rm, source, (t.c.source == source, eligible[source]), population, minimum, opener
        )
        for source in (GOAL, EVIDENCE)
    )
    return targeted, evidenced


def _table(
    conn: Connection,
    rm: ReadModel,
    source: str,
    where: tuple[Any, ...],
    population: int,
    minimum: int,
    opener: Opener,
) -> Table:
    t = rm.insight_skills
    named = {
        key or UNREAD: int(n)
        for key, n in conn.execute(
            select(t.c.skill_key, func.count(func.distinct(t.c.person_id)))
            .where(*where)
            .group_by(t.c.skill_key)
        )
    }
    spellings: dict[str, dict[str, int]] = {}
    for key, spelling, n in conn.execute(
        select(t.c.skill_key, t.c.spelling, func.count())
        .where(*where, t.c.skill_key.is_not(None))
        .group_by(t.c.skill_key, t.c.spelling)
    ):
        spellings.setdefault(key, {})[spelling] = int(n)

    def labels(keys: list[str]) -> dict[str, str]:
        return _labels(conn, rm, source, {k: spellings[k] for k in keys}, opener)

    return released_skills(named, labels, population, minimum)


def _labels(
    conn: Connection,
    rm: ReadModel,
    source: str,
    spellings: dict[str, dict[str, int]],
    opener: Opener,
) -> dict[str, str]:
    """Each key's most used spelling (of two as used, the first in text order): one
    sealed text of each candidate read and opened."""
    t = rm.insight_skills
    tied = {
        key: [s for s, n in counted.items() if n == max(counted.values())]
        for key, counted in spellings.items()
    }
    examples = [
        (
            key,
            conn.execute(
                select(t.c.label)
                .where(t.c.source == source, t.c.skill_key == key, t.c.spelling == spelling)
                .limit(1)
            ).scalar_one(),
        )
        for key, found in tied.items()
        for spelling in found
    ]
    opened = opener([label for _, label in examples])
    found: dict[str, list[str]] = {}
    for (key, _), text in zip(examples, opened, strict=True):
        found.setdefault(key, []).append(str(text).strip())
    return {key: min(texts) for key, texts in found.items()}
