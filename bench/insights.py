"""How long the insight tables take to compute and suppress for a large organisation.

    python -m bench.insights [--people 100000] [--agreements 120000] [--runs 7]
                             [--database PATH]

Synthetic facts (what `projections.insights.facts.read_facts` returns) for `--people`
people in teams of 5-40, each with a join and sometimes a team move over the last year,
and `--agreements` agreements (about 10 events each in the log: 120,000 is ~1.2M
events) with approvals, ends and outcomes spread over the year. Prints p50/p95 of
`compute` over `--runs` runs, beside the baseline measured in the same run: one plain
pass grouping the people by team at one instant (what any table must at least do).
The SQL read of the facts is not included (see docs/insights.md, Limits).

Then every table as the insights query serves them (projections.insights.precomputed),
SQL included, from read-model tables holding the same facts as the projector leaves
them: today's people, agreements (with their approval time), reallocations and
outcomes, the directory's history (insight_memberships) and the closed months'
participation. Those tables are written once into an SQLite file (`--database`, kept
between runs: building them takes a while on a loaded machine) and the run checks that
every served table equals the full computation's (outcomesByMonth included: how
many of its cells are shown is printed). The served requests are timed in a
process of their own, as a service holds no synthetic facts (`served_timings`)."""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import create_engine, insert

from projections.insights import figures as figures_module
from projections.insights import precomputed as precomputed_module
from projections.insights.facts import AgreementFacts, Facts, Membership
from projections.insights.figures import Directory, by_employee, compute, month_ends
from projections.insights.kept_outcomes import kept_row
from projections.insights.kept_skills import EVIDENCE, GOAL, skill_rows
from projections.insights.keyed import GroupHasher
from projections.insights.month_close import month_row
from projections.insights.months import CLOCK, month_of
from projections.insights.precomputed import read_precomputed
from projections.insights.series import from_replay
from projections.tables import ReadModel, read_model

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
YEAR_AGO = NOW - timedelta(days=365)
ROLES = ["Product manager", "Engineering manager", "Designer", "Data analyst", "Staff engineer"]
KINDS = ["MOVED_TO_TARGET_ROLE", "PROMOTED_IN_PLACE", "SKILLS_DEMONSTRATED", "STOPPED"]
SKILLS = ["research", "sql", "writing", "roadmaps", "facilitation", "python"]


def facts(people: int, agreements: int, rng: random.Random) -> Facts:
    memberships: dict[str, list[Membership]] = {}
    team, left = 0, 0
    for i in range(people):
        if left == 0:
            team, left = team + 1, rng.randint(5, 40)
        left -= 1
        pid = f"p{i}"
        joined = YEAR_AGO + timedelta(days=rng.randint(-400, 300))
        history = [Membership(joined, f"team-{team}", True)]
        if rng.random() < 0.1:
            history.append(
                Membership(joined + timedelta(days=rng.randint(1, 60)), f"team-{team + 1}", True)
            )
        memberships[pid] = history
    made = []
    for n in range(agreements):
        approved = YEAR_AGO + timedelta(days=rng.randint(0, 364), seconds=rng.randint(0, 86_399))
        ended = approved + timedelta(days=rng.randint(30, 200)) if rng.random() < 0.5 else None
        agreement = AgreementFacts(
            f"a{n}",
            f"p{rng.randrange(people)}",
            "COMPLETED" if ended and ended < NOW else "ACTIVE",
            rng.choice(ROLES),
            rng.choice([0.0, 2.0, 4.0]),
            (NOW + timedelta(days=rng.randint(-20, 20))).date(),
            approved_at=approved,
            ended_at=ended if ended and ended < NOW else None,
        )
        if agreement.ended_at is not None and rng.random() < 0.6:
            on = min(agreement.ended_at.date() + timedelta(days=rng.randint(0, 60)), NOW.date())
            agreement.outcomes.append((f"o{n}", rng.choice(KINDS), on))
        if rng.random() < 0.3:
            agreement.skills = rng.sample(SKILLS, rng.randint(1, 2))
        made.append(agreement)
    reallocations = [
        (f"p{rng.randrange(people)}", f"p{rng.randrange(people)}", 1.0)
        for _ in range(agreements // 10)
    ]
    evidence = [(a.employee_id, a.skills[:1]) for a in made if a.skills and rng.random() < 0.5]
    contracted = {f"p{i}": 40.0 for i in range(people)}
    found = Facts(memberships, contracted, made, reallocations, evidence)
    replayed(found)
    return found


def replayed(found: Facts) -> None:
    """The events the full computation would replay for the monthly series of
    development time and reviews: each person's contracted hours from each membership,
    each agreement proposed and approved at its approval, completed at its end."""
    for pid, history in found.memberships.items():
        for m in history:
            hours = found.contracted_hours[pid]
            found.replay.profile(pid, m.since, {"contractedHoursPerWeek": hours})
    for a in found.agreements:
        if a.approved_at is None:
            continue
        aid, pid = a.agreement_id, a.employee_id
        item = {"id": aid, "changeId": aid, "hoursPerWeek": a.development_hours}
        found.replay.apply(aid, pid, "Proposed", a.approved_at, {"adjustments": [item]})
        review = None if a.next_review_on is None else a.next_review_on.isoformat()
        found.replay.apply(aid, pid, "Approved", a.approved_at, {"nextReviewOn": review})
        if a.ended_at is not None:
            found.replay.apply(aid, pid, "Completed", a.ended_at, {})


def baseline(found: Facts) -> None:
    teams: dict[str, int] = {}
    for history in found.memberships.values():
        current = [m for m in history if m.since <= NOW]
        if current:
            teams[current[-1].team_id or ""] = teams.get(current[-1].team_id or "", 0) + 1


def team_at(history: list[Membership], instant: datetime) -> str | None:
    team = None
    for m in history:
        if m.since > instant:
            break
        team = m.team_id if m.active else None
    return team


def write_tables(found: Facts, rm: ReadModel, path: Path) -> None:
    """The read-model rows the precomputed path reads, as the projector leaves them
    after the facts' log (at NOW)."""
    engine = create_engine(f"sqlite:///{path}")
    rm.metadata.create_all(engine)
    people: list[dict[str, Any]] = []
    for n, (pid, history) in enumerate(found.memberships.items()):
        team = team_at(history, NOW)
        people.append(
            {
                "person_id": pid,
                "stream_id": f"s{n}",
                "display_name": "",
                "email": "",
                "team_id": team,
                "contracted_hours_per_week": found.contracted_hours[pid],
                "active": team is not None,
                "deprovisioned": False,
                "legal_hold": False,
                "erased": False,
                "version": len(history),
                "created_at": history[0].since,
                "updated_at": history[-1].since,
            }
        )
    agreements = [
        {
            "agreement_id": a.agreement_id,
            "employee_id": a.employee_id,
            "status": a.status,
            "title": "",
            "target_role": a.target_role,
            "skills": a.skills,
            "development_hours": a.development_hours,
            "next_review_on": a.next_review_on,
            "approved_at": a.approved_at,
            "version": 1,
            "position": n,
            "created_position": n,
            "created_at": a.approved_at,
            "updated_at": a.ended_at or a.approved_at,
        }
        for n, a in enumerate(found.agreements)
    ]
    first = min(a.approved_at for a in found.agreements if a.approved_at is not None)
    closed = [(label, at) for label, at in month_ends(first, NOW) if label < month_of(NOW)]
    teams_at = Directory(found).teams_at_each([instant for _, instant in closed])
    months = [
        month_row(label, f)
        for label, figures in from_replay(found.replay, closed, teams_at)
        for f in figures
    ]
    memberships = [
        {
            "person_id": pid,
            "version": n + 1,
            "since": m.since,
            "team_id": m.team_id if m.active else None,
            "position": n,
        }
        for pid, history in found.memberships.items()
        for n, m in enumerate(history)
    ]
    outcomes = [
        {
            "outcome_id": outcome_id,
            "agreement_id": a.agreement_id,
            "kind": kind,
            "achieved_on": on,
            "recorded_by": "hr",
            "recorded_at": NOW,
            "version": 2,
            "reverted": False,
            "position": n,
        }
        for n, a in enumerate(found.agreements)
        for outcome_id, kind, on in a.outcomes
    ]
    reallocations = [
        {
            "reallocation_id": f"r{n}",
            "agreement_id": f"a{n}",
            "change_id": f"c{n}",
            "task": "",
            "hours_per_week": hours,
            "from_person_id": giver,
            "to_person_id": taker,
            "effective_on": NOW.date(),
            "reason": "",
            "status": "ACTIVE",
            "position": n,
        }
        for n, (giver, taker, hours) in enumerate(found.reallocations)
    ]
    artifacts = [
        {
            "artifact_id": f"e{n}",
            "agreement_id": "",
            "employee_id": pid,
            "title": "",
            "kind": "BRIEF",
            "skills": skills,
            "recorded_by": pid,
            "recorded_on": NOW.date(),
            "position": n,
        }
        for n, (pid, skills) in enumerate(found.evidence)
    ]
    hasher = GroupHasher(b"bench insights key", lambda text: text)  # texts in clear here
    with engine.begin() as conn:
        for table, rows in (
            (rm.people, people),
            (rm.agreements, agreements),
            (rm.insight_memberships, memberships),
            (rm.outcomes, outcomes),
            (rm.reallocations, reallocations),
            (rm.artifacts, artifacts),
            (rm.insight_outcomes, kept_outcomes(found, hasher)),
            (rm.insight_skills, kept_skills(found, hasher)),
        ):
            for at in range(0, len(rows), 10_000):
                conn.execute(insert(table), rows[at : at + 10_000])
        conn.execute(insert(rm.insight_months), months)
        conn.execute(
            insert(rm.insight_clock),
            [{"name": CLOCK, "latest_at": NOW, "first_approved_at": first}],
        )
    engine.dispose()


def kept_outcomes(found: Facts, hasher: GroupHasher) -> list[dict[str, Any]]:
    """`insight_outcomes` as the projector keeps it: each person's latest outcome."""
    rows = []
    for pid, agreements in by_employee(found.agreements).items():
        latest = None
        for a in agreements:
            if a.outcome is not None and (latest is None or a.outcome[2] > latest[1][2]):
                latest = (a, a.outcome)
        if latest is None:
            continue
        a, (_, kind, on) = latest
        outcome = SimpleNamespace(
            agreement_id=a.agreement_id,
            approved_at=a.approved_at,
            target_role=a.target_role,
            kind=kind,
            achieved_on=on,
        )
        history = [(m.since, m.team_id if m.active else None) for m in found.memberships[pid]]
        rows.append(kept_row(pid, outcome, history, 0, hasher))
    return rows


def kept_skills(found: Facts, hasher: GroupHasher) -> list[dict[str, Any]]:
    """`insight_skills` as the projector keeps it: every goal's and artifact's skills."""
    goals = [
        row
        for n, a in enumerate(found.agreements)
        if a.approved_at is not None  # written on approval
        for row in skill_rows(
            GOAL, a.agreement_id, a.agreement_id, a.employee_id, a.skills, n, hasher
        )
    ]
    return goals + [
        row
        for n, (pid, skills) in enumerate(found.evidence)
        for row in skill_rows(EVIDENCE, f"e{n}", "", pid, skills, n, hasher)
    ]


def timed(call: object, runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        took.append(time.perf_counter() - start)
    return took


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def served_timings(path: Path, runs: int) -> tuple[list[float], list[float]]:
    """A whole request's times, as a process that serves them has them: in a process of
    its own holding only a connection and the read model (spawned: nothing inherited).
    In the bench's own process, every full garbage collection also walks the millions of
    objects of the synthetic facts and the full computation's results, which no serving
    process holds: a request that met one took about twice as long (p95 1.2 s beside
    p50 0.55 s at 100,000 people; 0.62 s in a process of its own)."""
    rm = read_model(1)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:

        def request() -> None:
            read_precomputed(conn, rm, 5, NOW)

        def cold() -> None:  # a process's first request: no closed month released yet
            precomputed_module._RELEASED.clear()
            figures_module._RELEASED_MONTHS.clear()  # nor outcomes by month suppressed
            read_precomputed(conn, rm, 5, NOW)

        return timed(cold, runs), timed(request, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--agreements", type=int, default=120_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", type=Path, default=None)
    args = parser.parse_args()
    found = facts(args.people, args.agreements, random.Random(30))
    rm = read_model(1)
    path = args.database or Path(f"/tmp/crafting-insights-v10-{args.people}-{args.agreements}.db")
    if not path.exists():
        print(f"writing the read-model tables to {path} (once)")
        write_tables(found, rm, path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        whole = compute(found, 5, NOW)
        served = read_precomputed(conn, rm, 5, NOW)
        assert served == whole, "the served tables differ from the full computation's"

        base = timed(lambda: baseline(found), args.runs)
        full = timed(lambda: compute(found, 5, NOW), args.runs)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        first, fast = pool.apply(served_timings, (path, args.runs))
    print(f"insights over {args.people:,} people, {args.agreements:,} agreements ({date.today()})")
    for name, took in (
        ("baseline (group by team once)", base),
        ("compute (every table, from the facts)", full),
        ("every table as served, first request of a process (months not released)", first),
        ("every table as served (kept tables, SQL included)", fast),
    ):
        print(f"  {name}: p50 {statistics.median(took):.3f} s  p95 {p95(took):.3f} s")
    print("  every served table equals the full computation's: yes")
    cells = [r for m in whole.outcomes_by_month for r in m.table.rows]
    shown = sum(1 for r in cells if r.counts is not None and sum(r.counts))
    withheld = sum(1 for r in cells if r.counts is None)
    totals = sum(1 for m in whole.outcomes_by_month if m.table.total is not None)
    print(
        f"  outcomesByMonth: {len(whole.outcomes_by_month)} months, {shown} team-month "
        f"cells with people shown, {withheld} withheld, {totals} month totals released"
    )


if __name__ == "__main__":
    main()
