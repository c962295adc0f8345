"""Each person's latest outcome in effect, kept by the projector (`insight_outcomes`),
so the outcome tables are one select of a row per person instead of every outcome,
agreement and directory history worked through per request (docs/insights.md).

The row holds what `figures.outcome_tables` works out from the log: the person's latest
outcome in effect (the one achieved last; of two the same day, the one on the agreement
created first), their team at the end of the day it was achieved (else their latest
team; none: no team), the days from its agreement's approval, and its target role as
keyed hashes (projections.insights.keyed). It changes with the person's outcome events
(recorded, reverted), directory events (a team change on the day of the outcome, or one
after an outcome recorded while they were in no team) and erasure (the role can no
longer be read), so the projector recomputes a person's row from the tables, once their
batch is written, whenever one of those reaches them (`refresh`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from projections.insights.facts import utc
from projections.insights.figures import (
    UNREAD,
    Month,
    Table,
    outcomes_by_month,
    released_outcomes,
)
from projections.insights.keyed import GroupHasher
from projections.tables import ReadModel

CHUNK = 500  # people per IN (...) list, below SQLite's parameter limit
Opener = Callable[[Any], Any]


def refresh(
    conn: Connection, rm: ReadModel, touched: Mapping[str, int], hasher: GroupHasher
) -> None:
    """Recompute the rows of the people `touched` (person id -> the position of the
    latest event that reached them) from the tables as written."""
    t = rm.insight_outcomes
    people = sorted(touched)
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        rows = _latest(conn, rm, chunk, touched, hasher)
        conn.execute(delete(t).where(t.c.person_id.in_(chunk)))
        if rows:
            conn.execute(insert(t), rows)


def _latest(
    conn: Connection,
    rm: ReadModel,
    people: list[str],
    touched: Mapping[str, int],
    hasher: GroupHasher,
) -> list[dict[str, Any]]:
    o, a, m = rm.outcomes, rm.agreements, rm.insight_memberships
    in_effect: dict[str, Any] = {}  # agreement -> its latest outcome not reverted
    for row in conn.execute(
        select(
            a.c.employee_id,
            a.c.agreement_id,
            a.c.created_position,
            a.c.approved_at,
            a.c.target_role,
            o.c.kind,
            o.c.achieved_on,
            o.c.position,
        )
        .select_from(o.join(a, a.c.agreement_id == o.c.agreement_id))
        .where(a.c.employee_id.in_(people), o.c.reverted.is_(False))
    ):
        known = in_effect.get(row.agreement_id)
        if known is None or row.position > known.position:
            in_effect[row.agreement_id] = row
    latest: dict[str, Any] = {}
    for row in in_effect.values():
        best = latest.get(row.employee_id)
        # Achieved last; the same day: the agreement created first.
        if best is None or (row.achieved_on, -row.created_position) > (
            best.achieved_on,
            -best.created_position,
        ):
            latest[row.employee_id] = row
    history: dict[str, list[tuple[datetime, str | None]]] = defaultdict(list)
    if latest:
        for pid, since, team in conn.execute(
            select(m.c.person_id, m.c.since, m.c.team_id)
            .where(m.c.person_id.in_(sorted(latest)))
            .order_by(m.c.person_id, m.c.version)
        ):
            history[pid].append((utc(since), team))
    return [kept_row(pid, row, history[pid], touched[pid], hasher) for pid, row in latest.items()]


def kept_row(
    pid: str,
    outcome: Any,
    history: list[tuple[datetime, str | None]],
    position: int,
    hasher: GroupHasher,
) -> dict[str, Any]:
    """The kept row of a person's latest outcome (`outcome`: its agreement's
    agreement_id, approved_at, target_role (stored), and its kind and achieved_on), with
    their directory history (since, team or None while inactive), oldest first."""
    achieved: date = outcome.achieved_on
    end_of_day = datetime.combine(achieved, time.max, tzinfo=UTC)
    team = team_at(history, end_of_day) or (history[-1][1] if history else None)
    role_key, spelling = hasher.hashes(outcome.target_role)
    approved = outcome.approved_at
    return {
        "person_id": pid,
        "agreement_id": outcome.agreement_id,
        "kind": outcome.kind,
        "achieved_on": achieved,
        "team_id": team,
        "days": None if approved is None else (achieved - utc(approved).date()).days,
        "role_key": role_key,
        "role_spelling": spelling,
        "position": position,
    }


def team_at(history: Iterable[tuple[datetime, str | None]], instant: datetime) -> str | None:
    """The team of the latest membership up to `instant` (figures.Directory.team_at)."""
    team = None
    for since, team_id in history:
        if since > instant:
            break
        team = team_id
    return team


def outcome_tables(
    conn: Connection, rm: ReadModel, minimum: int, opener: Opener, months: Sequence[str]
) -> tuple[Table, Table, tuple[Month, ...]]:
    """Outcomes by team, by target role and by month (`months`, oldest first), released
    from the kept rows: only the target roles' most used spellings are opened, one text
    each."""
    o, a = rm.insight_outcomes, rm.agreements
    teams: dict[str, set[str]] = defaultdict(set)
    by_key: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, str] = {}
    days: dict[str, int] = {}
    achieved: dict[str, date] = {}
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    example: dict[str, str] = {}  # spelling -> an agreement with it
    for pid, aid, kind, team, took, key, spelling, on in conn.execute(
        select(
            o.c.person_id,
            o.c.agreement_id,
            o.c.kind,
            o.c.team_id,
            o.c.days,
            o.c.role_key,
            o.c.role_spelling,
            o.c.achieved_on,
        )
    ):
        kinds[pid] = kind
        achieved[pid] = on
        if took is not None:
            days[pid] = took
        if team is not None:
            teams[team].add(pid)
        by_key[key or UNREAD].add(pid)
        if key is not None:
            spellings[key][spelling] += 1
            example.setdefault(spelling, aid)
    # Each key's most used spellings (several when tied: then the first in text order).
    tied = {
        key: [s for s, n in counted.items() if n == max(counted.values())]
        for key, counted in spellings.items()
    }
    wanted = sorted({example[s] for found in tied.values() for s in found})
    stored: dict[str, Any] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for aid, role in conn.execute(
            select(a.c.agreement_id, a.c.target_role).where(a.c.agreement_id.in_(chunk))
        ):
            stored[aid] = role
    opened = dict(zip(wanted, opener([stored[aid] for aid in wanted]), strict=True))
    roles: dict[str, set[str]] = {}
    for key, members in by_key.items():
        if key == UNREAD:
            roles[UNREAD] = members
        else:
            roles[min(str(opened[example[s]]).strip() for s in tied[key])] = members
    by_team, by_role = released_outcomes(teams, roles, kinds, days, minimum)
    by_month = outcomes_by_month(teams, kinds, achieved, months, by_team, minimum)
    return by_team, by_role, by_month
