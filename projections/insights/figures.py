"""The released insight tables, computed from `Facts` and suppressed
(`suppression.suppress`): fixed groupings only (by team, by target role, by month), so
no caller can ask for "the team minus one filter". The method and its limits are in
docs/insights.md.

Each table counts people, split in two (with / without the attribute). Teams are the
directory's at the instant a figure describes (from the log), so a closed month's table
never changes once the month is over. Erased people are counted like everyone else
(counts hold no text of theirs); their target role cannot be read any more and is never
shown: it joins the hidden row of the target-role table.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.agreement.outcomes import PROGRESSED
from domain.sealing import ERASED, UNREADABLE
from projections.insights.facts import AgreementFacts, Facts, Membership
from projections.insights.months import TeamFigures
from projections.insights.series import from_replay
from projections.insights.suppression import Counts, suppress
from projections.insights.two_way import Cell, suppress_two_way

MONTHS = 12
HIDDEN_ROLES = "Other target roles"
# The key of target roles that cannot be read (erased people's): always withheld, so
# nothing about them is ever labelled.
UNREAD = ""
Measure = Callable[[Sequence[str]], float | None]


@dataclass(frozen=True)
class ReleasedRow:
    group: str
    counts: Counts | None  # None: suppressed
    measure: float | None = None


@dataclass(frozen=True)
class Table:
    rows: tuple[ReleasedRow, ...]
    total: ReleasedRow | None  # None: withheld (the table is below the minimum)

    @property
    def suppressed(self) -> int:
        return sum(1 for r in self.rows if r.counts is None)


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    table: Table


@dataclass(frozen=True)
class Insights:
    minimum: int
    as_of: datetime
    participation: Table
    participation_by_month: tuple[Month, ...]
    development_time: Table  # measure: development hours as % of contracted hours
    hours_given: Table  # measure: hours per week given through reallocations
    hours_received: Table  # measure: hours per week received
    outcomes_by_team: Table  # measure: median days from approval to outcome
    outcomes_by_target_role: Table
    reviews: Table  # with: people with an overdue review
    # Of the people with an approved agreement: those targeting / evidencing each skill
    # (a person counts once per skill); no totals, withheld skills unlabelled.
    skills_targeted: Table = Table((), None)
    skills_evidenced: Table = Table((), None)
    # At each month's close (the last 12; the current month: now), per team: development
    # time (as `development_time`) and reviews (as `reviews`), from the log.
    development_time_by_month: tuple[Month, ...] = ()
    reviews_by_month: tuple[Month, ...] = ()
    # Per month (the last 12), per team: the people counted in `outcomes_by_team` whose
    # latest outcome was achieved in it; suppressed with that table's rows as one
    # two-way table (projections.insights.two_way).
    outcomes_by_month: tuple[Month, ...] = ()


def release(
    rows: dict[str, Counts],
    minimum: int,
    measure: Measure | None = None,
    forced: frozenset[str] = frozenset(),
    hide_labels: bool = False,
) -> Table:
    """A table as released: suppressed rows without figures (and, with `hide_labels`,
    merged into one row without its label's texts), totals unless withheld."""
    hidden = suppress(rows, minimum, forced)
    shown = []
    for key in sorted(rows):
        if hidden.shows(key):
            shown.append(ReleasedRow(key, rows[key], measure([key]) if measure else None))
        elif not hide_labels:
            shown.append(ReleasedRow(key, None))
    if hide_labels and hidden.rows:
        shown.append(ReleasedRow(HIDDEN_ROLES, None))
    total = None
    if rows and not hidden.totals_withheld:  # no rows: nobody to count, no total
        counts = (sum(r[0] for r in rows.values()), sum(r[1] for r in rows.values()))
        total = ReleasedRow("All", counts, measure(list(rows)) if measure else None)
    return Table(tuple(shown), total)


def compute(facts: Facts, minimum: int, now: datetime) -> Insights:
    """Every released table as of `now`, from the whole log: the reference, which the
    query's tables from what the projector keeps (projections.insights.precomputed)
    equal."""
    people = Directory(facts)
    by_person = by_employee(facts.agreements)
    months = list(_month_ends(facts, now))
    instants = sorted({now, *(instant for _, instant in months)})
    teams_at = people.teams_at_each(instants)
    teams_now = teams_at[now]
    participation, by_month, development = _participation(facts, minimum, now, months, teams_at)

    given: dict[str, list[float]] = defaultdict(list)
    received: dict[str, list[float]] = defaultdict(list)
    for giver, taker, hours in facts.reallocations:
        given[giver].append(hours)
        received[taker].append(hours)

    def hours_of(ledger: dict[str, list[float]]) -> Table:
        held = {pid: math.fsum(ledger[pid]) for pid in ledger}
        return hours_table(
            {team: len(members) for team, members in teams_now.items()},
            {
                team: [held[p] for p in members if held.get(p, 0.0) > 0]
                for team, members in teams_now.items()
            },
            minimum,
        )

    by_team, by_role, outcomes_by_month = outcome_tables(
        people, by_person, now, minimum, [label for label, _ in months]
    )
    population = {a.employee_id for a in facts.agreements if a.approved_at is not None}
    development_by_month, reviews_by_month = series_tables(
        from_replay(facts.replay, months, teams_at), minimum
    )
    return Insights(
        minimum=minimum,
        as_of=now,
        participation=participation,
        participation_by_month=by_month,
        development_time=development,
        hours_given=hours_of(given),
        hours_received=hours_of(received),
        outcomes_by_team=by_team,
        outcomes_by_target_role=by_role,
        reviews=release(_reviews(teams_now, by_person, now.date()), minimum),
        skills_targeted=skills_table(
            [(a.employee_id, a.skills) for a in facts.agreements if a.approved_at],
            len(population),
            minimum,
        ),
        skills_evidenced=skills_table(
            [(pid, skills) for pid, skills in facts.evidence if pid in population],
            len(population),
            minimum,
        ),
        development_time_by_month=development_by_month,
        reviews_by_month=reviews_by_month,
        outcomes_by_month=outcomes_by_month,
    )


def by_employee(agreements: Iterable[AgreementFacts]) -> dict[str, list[AgreementFacts]]:
    """Each person's agreements, in the order given (their creation's: the first of two
    outcomes on the same day is a person's latest, see `_outcomes`)."""
    found: dict[str, list[AgreementFacts]] = defaultdict(list)
    for agreement in agreements:
        found[agreement.employee_id].append(agreement)
    return found


def hours_table(members: dict[str, int], holders: dict[str, list[float]], minimum: int) -> Table:
    """Reallocated hours per team: `members` per team, and the hours per week of each
    of its members who gives (receives) any. Summed with fsum, so the figure does not
    depend on the order the hours were read in."""

    def measure(teams: Sequence[str]) -> float:
        return round(math.fsum(h for t in teams for h in holders.get(t, ())), 1)

    rows = {t: (len(holders.get(t, ())), n - len(holders.get(t, ()))) for t, n in members.items()}
    return release(rows, minimum, measure)


def outcome_tables(
    people: Directory,
    by_person: dict[str, list[AgreementFacts]],
    now: datetime,
    minimum: int,
    months: Sequence[str],
) -> tuple[Table, Table, tuple[Month, ...]]:
    """Outcomes by team (when they happened), by target role and by month (`months`,
    oldest first), of each person's latest outcome in effect."""
    team_outcomes, role_outcomes, latest = _outcomes(people, by_person, now)
    kinds = {pid: kind for pid, (_, kind, _, _) in latest.items()}
    days = {
        pid: (on - a.approved_at.date()).days
        for pid, (_, _, on, a) in latest.items()
        if a.approved_at is not None
    }
    by_team, by_role = released_outcomes(team_outcomes, role_outcomes, kinds, days, minimum)
    achieved = {pid: on for pid, (_, _, on, _) in latest.items()}
    by_month = outcomes_by_month(team_outcomes, kinds, achieved, months, by_team, minimum)
    return by_team, by_role, by_month


# The column of the outcomes achieved before the listed months: never shown, but part of
# the two-way table (a team's row total minus its listed months is its sum).
EARLIER = "earlier"


# The latest outcomes by month released per (minimum, months), with the cells and margins
# they were released from (which determine them): reused only when those are equal
# (outcomes change rarely; most requests meet the same cells), so it holds for any
# database and generation.
_RELEASED_MONTHS: dict[
    tuple[int, tuple[str, ...]], tuple[tuple[object, ...], tuple[Month, ...]]
] = {}


def outcomes_by_month(
    teams: dict[str, set[str]],
    kinds: dict[str, str],
    achieved: dict[str, date],
    months: Sequence[str],
    by_team: Table,
    minimum: int,
) -> tuple[Month, ...]:
    """Per month of `months`, per team, the people of `teams` (as in `by_team`) whose
    latest outcome was achieved then, split as `by_team` splits them; the team x month
    cells suppressed as one table with `by_team`'s rows and total as its margins
    (projections.insights.two_way), so no released figure of the two tables together
    pins a cell or a withheld team row."""
    if not months:
        return ()
    listed = set(months)
    cells: dict[Cell, tuple[int, int]] = {}
    for team, members in teams.items():
        for pid in members:
            on = achieved[pid]
            label = f"{on.year:04d}-{on.month:02d}"
            # Anything outside the listed months (before them: achievedOn is never
            # in the future) is in the column that is never shown.
            cell = (team, label if label in listed else EARLIER)
            yes, no = cells.get(cell, (0, 0))
            cells[cell] = (yes + 1, no) if kinds[pid] in PROGRESSED else (yes, no + 1)
    released_rows = frozenset(r.group for r in by_team.rows if r.counts is not None)
    asked = (cells, released_rows, by_team.total is not None)
    known = _RELEASED_MONTHS.get((minimum, tuple(months)))
    if known is not None and known[0] == asked:
        return known[1]
    found = suppress_two_way(cells, [*months, EARLIER], released_rows, asked[2], {EARLIER}, minimum)
    ordered = sorted(teams)
    # Most cells are empty or withheld: one row object each per team, shared by months.
    empty = {team: ReleasedRow(team, (0, 0)) for team in ordered}
    withheld = {team: ReleasedRow(team, None) for team in ordered}
    released = []
    for label in months:
        rows, yes, no = [], 0, 0
        for team in ordered:
            counts = cells.get((team, label))
            if counts is not None:
                yes, no = yes + counts[0], no + counts[1]
            if not found.shows((team, label)):
                rows.append(withheld[team])
            else:
                rows.append(empty[team] if counts is None else ReleasedRow(team, counts))
        total = ReleasedRow("All", (yes, no)) if found.shows_total(label) else None
        released.append(Month(label, Table(tuple(rows), total)))
    _RELEASED_MONTHS[(minimum, tuple(months))] = (asked, tuple(released))
    return tuple(released)


def released_outcomes(
    teams: dict[str, set[str]],
    roles: dict[str, set[str]],
    kinds: dict[str, str],
    days: dict[str, int],
    minimum: int,
) -> tuple[Table, Table]:
    """The two outcome tables, released: the people per team and per target role
    (labelled; UNREAD: unreadable), each one's outcome kind and days to it (if approved).
    The served path (projections.insights.kept_outcomes) gives the same from kept rows."""
    outcome_rows = {t: _count(m, kinds) for t, m in teams.items()}
    role_rows = {r: _count(m, kinds) for r, m in roles.items()}
    by_team = release(outcome_rows, minimum, _median_days(teams, days))
    forced = _nested_differences(teams, roles, by_team, minimum) | {UNREAD}
    by_role = release(
        role_rows, minimum, _median_days(roles, days), forced=forced, hide_labels=True
    )
    return by_team, by_role


def _participation(
    facts: Facts,
    minimum: int,
    now: datetime,
    months: list[tuple[str, datetime]],
    teams_at: dict[datetime, dict[str, list[str]]],
) -> tuple[Table, tuple[Month, ...], Table]:
    """Participation now and at each month's end, and development time, from the log."""
    running_at = _running_at_each(facts.agreements, sorted(teams_at))
    teams_now = teams_at[now]

    def participation_at(instant: datetime) -> dict[str, Counts]:
        return _split(teams_at[instant], running_at[instant].__contains__)

    participation = participation_at(now)
    development: dict[str, float] = defaultdict(float)
    for agreement in facts.agreements:
        if agreement.running_at(now):
            development[agreement.employee_id] += agreement.development_hours

    def development_share(teams: Sequence[str]) -> float | None:
        members = [pid for t in teams for pid in teams_now[t]]
        contracted = sum(facts.contracted_hours.get(pid, 0.0) for pid in members)
        hours = sum(development.get(pid, 0.0) for pid in members)
        return None if contracted <= 0 else round(100 * hours / contracted, 1)

    return (
        release(participation, minimum),
        tuple(
            Month(label, release(participation_at(instant), minimum)) for label, instant in months
        ),
        release(participation, minimum, development_share),
    )


class Directory:
    """Who was in which team, active, at an instant (from the log)."""

    def __init__(self, facts: Facts | dict[str, list[Membership]]) -> None:
        self.memberships = facts if isinstance(facts, dict) else facts.memberships

    def team_at(self, pid: str, instant: datetime) -> str | None:
        team = None
        for m in self.memberships.get(pid, []):
            if m.since > instant:
                break
            team = m.team_id if m.active else None
        return team

    def teams_at_each(self, instants: list[datetime]) -> dict[datetime, dict[str, list[str]]]:
        """Per instant (sorted), the teams' members then: one walk of each person's
        memberships alongside the instants."""
        found: dict[datetime, dict[str, list[str]]] = {i: defaultdict(list) for i in instants}
        for pid, history in self.memberships.items():
            at, team = 0, None
            for instant in instants:
                while at < len(history) and history[at].since <= instant:
                    team = history[at].team_id if history[at].active else None
                    at += 1
                if team is not None:
                    found[instant][team].append(pid)
        return found


def _running_at_each(
    agreements: list[AgreementFacts], instants: list[datetime]
) -> dict[datetime, set[str]]:
    """Per instant (sorted), the people with an agreement running then."""
    found: dict[datetime, set[str]] = {i: set() for i in instants}
    for a in agreements:
        if a.approved_at is None:
            continue
        first = bisect_left(instants, a.approved_at)
        last = len(instants) if a.ended_at is None else bisect_left(instants, a.ended_at)
        for instant in instants[first:last]:
            found[instant].add(a.employee_id)
    return found


def _split(teams: dict[str, list[str]], has: Callable[[str], bool]) -> dict[str, Counts]:
    rows = {}
    for team, members in teams.items():
        yes = sum(1 for pid in members if has(pid))
        rows[team] = (yes, len(members) - yes)
    return rows


Outcome = tuple[str, str, date, AgreementFacts]  # person, kind, achieved on, agreement


def _outcomes(
    people: Directory, by_person: dict[str, list[AgreementFacts]], now: datetime
) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, Outcome]]:
    """Each person's latest outcome in effect, grouped by their team when it happened and
    by the target role it was for; and per person that outcome."""
    latest: dict[str, Outcome] = {}
    for pid, agreements in by_person.items():
        for a in agreements:
            if a.outcome is not None:
                _, kind, on = a.outcome
                if pid not in latest or on > latest[pid][2]:
                    latest[pid] = (pid, kind, on, a)
    teams: dict[str, set[str]] = defaultdict(set)
    roles: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pid, (_, _, on, agreement) in latest.items():
        end_of_day = datetime.combine(on, time.max, tzinfo=UTC)
        team = people.team_at(pid, end_of_day) or people.team_at(pid, now)
        if team is not None:
            teams[team].add(pid)
        key = group_key(agreement.target_role)
        roles[key].add(pid)
        labels[key][agreement.target_role.strip()] += 1
    # A role is shown by its most used spelling (ties: the first in order).
    named = {}
    for key, members in roles.items():
        spelling = min(labels[key].items(), key=lambda s: (-s[1], s[0]))[0]
        named[UNREAD if key == UNREAD else spelling] = members
    return teams, named, latest


def group_key(role: str) -> str:
    """Target roles grouped regardless of case and spacing; unreadable ones (erased
    people's) under a key that is never shown (see release's hide_labels)."""
    if role in (ERASED, UNREADABLE):
        return UNREAD
    return " ".join(role.split()).casefold()


def _count(members: set[str], kinds: dict[str, str]) -> Counts:
    progressed = sum(1 for pid in members if kinds[pid] in PROGRESSED)
    return (progressed, len(members) - progressed)


def _median_days(groups: dict[str, set[str]], days_to: dict[str, int]) -> Measure:
    def median(keys: Sequence[str]) -> float | None:
        days = [days_to[pid] for key in keys for pid in groups[key] if pid in days_to]
        return float(statistics.median(days)) if days else None

    return median


def _nested_differences(
    teams: dict[str, set[str]], roles: dict[str, set[str]], by_team: Table, minimum: int
) -> frozenset[str]:
    """Target roles to withhold because a released team and a released role would, by
    difference, describe fewer than `minimum` people (a team of 6 and a role of 5 of
    them tell the sixth person's outcome)."""
    released_teams = [teams[r.group] for r in by_team.rows if r.counts is not None]
    forced = set()
    for role, members in roles.items():
        for team in released_teams:
            for inner, outer in ((members, team), (team, members)):
                # Strictly nested, and the difference is a group below the minimum.
                if inner < outer and len(outer - inner) < minimum:
                    forced.add(role)
    return frozenset(forced)


HIDDEN_SKILLS = "Other skills"
MOST_SKILLS = 20


def skills_table(pairs: Iterable[tuple[str, list[str]]], population: int, minimum: int) -> Table:
    """Skills by how many people (of the `population` with an approved agreement, who
    alone are in `pairs`) name them. The rows overlap (one person, several skills), so
    no totals are released and no complement is needed: a row is shown when both its
    counts reach the minimum, and the others are one unlabelled line (a rare skill's
    text could name its person)."""
    people: dict[str, set[str]] = defaultdict(set)
    spellings: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pid, skills in pairs:
        for skill in skills:
            key = group_key(skill)
            people[key].add(pid)
            spellings[key][skill.strip()] += 1

    def labels(keys: list[str]) -> dict[str, str]:
        return {k: min(spellings[k].items(), key=lambda s: (-s[1], s[0]))[0] for k in keys}

    return released_skills({k: len(m) for k, m in people.items()}, labels, population, minimum)


def released_skills(
    named: dict[str, int],
    labels: Callable[[list[str]], dict[str, str]],
    population: int,
    minimum: int,
) -> Table:
    """The skills table from the people naming each skill key (UNREAD: unreadable) and
    the labels (most used spelling) of the keys shown, asked for those alone (the served
    path opens only them: projections.insights.kept_skills)."""
    listed, hidden = [], False
    for key, count in named.items():
        counts = (count, population - count)
        if key == UNREAD or min(counts) < minimum:
            hidden = True
            continue
        listed.append((key, counts))
    label = labels([key for key, _ in listed])
    shown = [ReleasedRow(label[key], counts) for key, counts in listed]
    shown.sort(key=lambda r: (-(r.counts or (0, 0))[0], r.group))
    rows = shown[:MOST_SKILLS] + ([ReleasedRow(HIDDEN_SKILLS, None)] if hidden else [])
    return Table(tuple(rows), None)


def _reviews(
    teams: dict[str, list[str]], by_person: dict[str, list[AgreementFacts]], today: date
) -> dict[str, Counts]:
    """Per team, of the people with an active agreement: those with a review overdue."""
    rows = {}
    for team, members in teams.items():
        active = [[a for a in by_person.get(pid, []) if a.status == "ACTIVE"] for pid in members]
        reviewed = [agreements for agreements in active if agreements]
        overdue = sum(
            1
            for agreements in reviewed
            if any(a.next_review_on is not None and a.next_review_on < today for a in agreements)
        )
        rows[team] = (overdue, len(reviewed) - overdue)
    return rows


def _month_ends(facts: Facts, now: datetime) -> Iterable[tuple[str, datetime]]:
    """The last MONTHS months up to now: closed ones at their last instant, the current
    one now; none before the first approval."""
    starts = [a.approved_at for a in facts.agreements if a.approved_at is not None]
    return month_ends(min(starts) if starts else None, now)


def month_ends(first: datetime | None, now: datetime) -> list[tuple[str, datetime]]:
    """The last MONTHS months up to now, none before the month of `first` (the first
    approval; None: no months)."""
    if first is None:
        return []
    months: list[tuple[str, datetime]] = []
    year, month = now.year, now.month
    for _ in range(MONTHS):
        start = datetime(year, month, 1, tzinfo=UTC)
        end = now if not months else _next_month(start) - timedelta(microseconds=1)
        months.append((f"{year:04d}-{month:02d}", end))
        if start <= first:
            break
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


def _next_month(start: datetime) -> datetime:
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def development_table(figures: Sequence[TeamFigures], minimum: int) -> Table:
    """People with an agreement running (as participation), valued by their team's
    development hours as a % of its contracted hours (summed exactly: the figure does
    not depend on the order the teams were read in)."""
    by_team = {f.team: f for f in figures}

    def share(teams: Sequence[str]) -> float | None:
        contracted = math.fsum(by_team[t].contracted for t in teams)
        hours = math.fsum(by_team[t].development for t in teams)
        return None if contracted <= 0 else round(100 * hours / contracted, 1)

    return release({f.team: (f.running, f.members - f.running) for f in figures}, minimum, share)


def reviews_table(figures: Sequence[TeamFigures], minimum: int) -> Table:
    """Of the people with an active agreement: those with a review overdue."""
    return release({f.team: (f.overdue, f.reviewed - f.overdue) for f in figures}, minimum)


def series_tables(
    figures: Sequence[tuple[str, Sequence[TeamFigures]]], minimum: int
) -> tuple[tuple[Month, ...], tuple[Month, ...]]:
    """Development time and reviews by month, from each month's teams' figures at its
    close (the full computation's: projections.insights.series; the served ones:
    projections.insights.series_kept); each month released on its own."""
    return (
        tuple(Month(label, development_table(found, minimum)) for label, found in figures),
        tuple(Month(label, reviews_table(found, minimum)) for label, found in figures),
    )
