"""Minimum group size with complementary suppression, for the released insight tables.

A table has one row per group (a team, a target role) and in each row two counts of
people that split the group: those with the attribute and those without (participating
or not, moved or not, overdue or not). The row total is treated as public (a team's
headcount is in the directory), so a row is only safe to show when *both* counts reach
the minimum: "0 of 9" or "9 of 9" tells each member's answer as surely as "1".

1. Primary: a row with either count below the minimum is suppressed.
2. Complementary: the table's column totals are released, so the suppressed rows
   together must not give any of them away. Rows are added, smallest first, until at
   least two are suppressed and each column summed over the suppressed rows reaches the
   minimum. With two or more suppressed rows and both column sums at least 1, an
   attacker who knows every row total and every released figure still has at least two
   solutions for each suppressed cell (docs/insights.md works it out).
3. When that cannot be reached, the totals are withheld too (the whole table).

Pure functions: the tables are fixed groupings (no caller-chosen filters), so the only
overlaps an attacker can difference are the ones these rules were built for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

Counts = tuple[int, int]  # (with the attribute, without)


@dataclass(frozen=True)
class Suppressed:
    """Which rows of a table are withheld, and whether its totals are."""

    primary: frozenset[str]
    complementary: frozenset[str]
    totals_withheld: bool

    @cached_property
    def rows(self) -> frozenset[str]:
        return self.primary | self.complementary

    def shows(self, key: str) -> bool:
        return key not in self.rows


def suppress(
    rows: Mapping[str, Counts], minimum: int, forced: frozenset[str] = frozenset()
) -> Suppressed:
    """The rows to withhold so no released figure pins a count below `minimum`;
    `forced` rows are withheld as if below it (another table's rows would otherwise
    give them away by difference, see figures.py)."""
    primary = frozenset(
        key for key, counts in rows.items() if min(counts) < minimum or key in forced
    )
    chosen = set(primary)
    sums = [sum(rows[k][i] for k in chosen) for i in (0, 1)]  # kept as rows are added
    # Smallest groups first (their figures say least), then by key: the same data
    # always gives the same pattern, so asking twice reveals nothing new.
    candidates = iter(sorted((k for k in rows if k not in chosen), key=lambda k: (sum(rows[k]), k)))
    while chosen and not _covered(len(chosen), sums, minimum):
        added = next(candidates, None)
        if added is None:
            break
        chosen.add(added)
        sums = [sums[i] + rows[added][i] for i in (0, 1)]
    withheld = bool(chosen) and not _covered(len(chosen), sums, minimum)
    if withheld:
        chosen = set(rows)
    return Suppressed(primary, frozenset(chosen - primary), withheld)


def _covered(withheld: int, sums: list[int], minimum: int) -> bool:
    """At least two rows withheld, and each count summed over them reaches the minimum."""
    return withheld >= 2 and min(sums) >= minimum


def column_totals(rows: Mapping[str, Sequence[int]]) -> Counts:
    """The table's totals: each count summed over every row."""
    return (sum(r[0] for r in rows.values()), sum(r[1] for r in rows.values()))
