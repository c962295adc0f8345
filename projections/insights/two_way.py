"""Complementary suppression of a two-way table (rows: teams, columns: months) whose
margins are released elsewhere: the rows' totals are another table's rows
(`outcomesByTeam`), the columns' totals are released with the months, and the grand
total is that other table's total. docs/insights.md, "Outcomes by month", states the
method and its limits; tests/unit/test_insights_two_way.py attacks it exhaustively.

Each cell splits its people in two (with the attribute, without), and the attacker is
taken to know every cell's headcount (more than the one-way tables assume: there only
the rows' headcounts). So what is secret is each cell's first count `x` in `[0, t]`,
and the released figures are linear equalities on them: a network flow system (rows
and columns as nodes, withheld cells as edges). Its integer solutions for one cell form
an interval, and a cell can take another value exactly when an alternating cycle
through it (the same row, another column, another row, ...) can move by one within every
withheld cell's bounds. `_Graph` decides that exactly, on a graph of the columns only
(rows are folded into arcs between columns, counted, so one row can be taken out).

1. Primary: a cell with people and either count below the minimum is withheld; so are
   the cells of `hidden` columns (never shown: outcomes before the listed months), and a
   column whose total has either count below the minimum has its total withheld.
2. Complementary, until nothing is left to fix: in every line whose total is released,
   the withheld cells together reach the minimum in both counts (else their sum, the
   line's total minus the shown cells, describes a small group); and no withheld figure
   with either count below the minimum (cell, row total withheld by the other table,
   column total) can be pinned to one value. Cells are added smallest first, then by
   key (the same data always gives the same pattern), preferring one that alone frees
   the pinned figure; a column's total is withheld when its cells cannot do it.
3. When that cannot be reached, every cell and every column total is withheld: what is
   left is the other table, protected on its own.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from projections.insights.suppression import Counts

Cell = tuple[str, str]  # (row, column)
ROWS = "\x00rows"  # the node of the rows whose total is withheld
COLUMNS = "\x00columns"  # the node of the columns whose total is withheld
CANDIDATES = 25  # cells tried one by one to free a pinned figure (the smallest)


@dataclass(frozen=True)
class TwoWay:
    """Which cells are withheld, and which columns' totals."""

    primary: frozenset[Cell]
    cells: frozenset[Cell]  # every withheld cell (with people), primary included
    columns: frozenset[str]  # columns whose total is withheld
    everything: bool = False  # the fallback: nothing of the table released

    def shows(self, cell: Cell) -> bool:
        return not self.everything and cell not in self.cells

    def shows_total(self, column: str) -> bool:
        return not self.everything and column not in self.columns


def sensitive(counts: Counts, minimum: int) -> bool:
    """Describes somebody, and either count is below the minimum."""
    return sum(counts) > 0 and min(counts) < minimum


def suppress_two_way(
    cells: Mapping[Cell, Counts],
    columns: Sequence[str],
    released_rows: Collection[str],
    total_released: bool,
    hidden: Collection[str],
    minimum: int,
) -> TwoWay:
    """The cells and column totals to withhold so that, with every row total in
    `released_rows` and (with `total_released`) the grand total known, no figure below
    `minimum` is pinned and no line's withheld part describes fewer people."""
    rows = sorted({r for r, _ in cells})
    table = _Table(cells, rows, list(columns), set(released_rows), total_released, minimum)
    table.withhold_primary(hidden)
    for _ in range(len(cells) + len(columns) + 1):
        problems = table.problems()
        if not problems:
            return table.result()
        for problem in problems:
            if table.still(problem) and not table.fix(problem):
                return table.fallback()
    return table.fallback()


class _Table:
    def __init__(
        self,
        cells: Mapping[Cell, Counts],
        rows: list[str],
        columns: list[str],
        released_rows: set[str],
        total_released: bool,
        minimum: int,
    ) -> None:
        self.counts = {c: v for c, v in cells.items() if sum(v) > 0}
        self.rows, self.columns, self.minimum = rows, columns, minimum
        self.released_rows = released_rows
        self.in_row: dict[str, list[str]] = {r: [] for r in rows}
        self.in_column: dict[str, list[str]] = {c: [] for c in columns}
        for r, c in sorted(self.counts):
            self.in_row[r].append(c)
            self.in_column.setdefault(c, []).append(r)
            if c not in self.columns:
                self.columns.append(c)
        self.primary = frozenset(c for c, v in self.counts.items() if sensitive(v, minimum))
        self.withheld: set[Cell] = set(self.primary)
        self.column_totals = {
            c: _sum(self.counts[(r, c)] for r in self.in_column[c]) for c in self.columns
        }
        self.row_totals = {r: _sum(self.counts[(r, c)] for c in self.in_row[r]) for r in rows}
        self.totals_withheld = {
            c for c in self.columns if sensitive(self.column_totals[c], minimum)
        }
        self.graph = _Graph(self, COLUMNS if total_released else ROWS)

    def withhold_primary(self, hidden: Collection[str]) -> None:
        for column in hidden:
            self.totals_withheld.add(column)
            self.withheld.update((r, column) for r in self.in_column.get(column, []))
        self.graph.rebuild()

    # What is wrong, in a fixed order: the lines' withheld sums first (a cheap fix that
    # often frees the pinned figures too), then each pinned figure.
    def problems(self) -> list[tuple[str, str, str]]:
        found = []
        for r in self.rows:
            if r in self.released_rows and self._thin(self._withheld_sum_row(r)):
                found.append(("row", r, ""))
        for c in self.columns:
            if c not in self.totals_withheld and self._thin(self._withheld_sum_column(c)):
                found.append(("column", c, ""))
        for r, c in sorted(self.withheld & self.primary):
            if self.graph.pinned_cell(r, c):
                found.append(("cell", r, c))
        found += [
            ("row total", r, "")
            for r in self.rows
            if r not in self.released_rows
            and sensitive(self.row_totals[r], self.minimum)
            and self.graph.pinned_row(r)
        ]
        found += [
            ("column total", c, "")
            for c in self.columns
            if c in self.totals_withheld
            and sensitive(self.column_totals[c], self.minimum)
            and self.graph.pinned_column(c)
        ]
        return found

    def still(self, problem: tuple[str, str, str]) -> bool:
        kind, a, b = problem
        if kind == "row":
            return self._thin(self._withheld_sum_row(a))
        if kind == "column":
            return a not in self.totals_withheld and self._thin(self._withheld_sum_column(a))
        if kind == "cell":
            return self.graph.pinned_cell(a, b)
        if kind == "row total":
            return self.graph.pinned_row(a)
        return self.graph.pinned_column(a)

    def fix(self, problem: tuple[str, str, str]) -> bool:
        """Withhold more to fix `problem`; False: nothing left that could."""
        kind, a, b = problem
        if kind == "row":
            return self._add_first(self._shown_in_row(a))
        if kind == "column":
            return self._add_first(self._shown_in_column(a))
        if kind == "cell":
            candidates = self._shown_in_row(a) + self._shown_in_column(b)[:CANDIDATES]
            if self._add_one_that_frees(candidates, lambda: self.graph.pinned_cell(a, b)):
                return True
            return self._add_first(candidates) or self._withhold_total(b)
        if kind == "row total":
            candidates = self._shown_in_row(a)
            if self._add_one_that_frees(candidates, lambda: self.graph.pinned_row(a)):
                return True
            return self._add_first(candidates)
        candidates = self._shown_in_column(a)
        if self._add_one_that_frees(candidates[:CANDIDATES], lambda: self.graph.pinned_column(a)):
            return True
        if self._add_first(candidates):
            return True
        others = sorted(
            (c for c in self.columns if c not in self.totals_withheld),
            key=lambda c: (sum(self.column_totals[c]), c),
        )
        return bool(others) and self._withhold_total(others[0])

    def _thin(self, withheld: Counts | None) -> bool:
        return withheld is not None and min(withheld) < self.minimum

    def _withheld_sum_row(self, row: str) -> Counts | None:
        found = [self.counts[(row, c)] for c in self.in_row[row] if (row, c) in self.withheld]
        return _sum(found) if found else None

    def _withheld_sum_column(self, column: str) -> Counts | None:
        found = [
            self.counts[(r, column)] for r in self.in_column[column] if (r, column) in self.withheld
        ]
        return _sum(found) if found else None

    def _shown_in_row(self, row: str) -> list[Cell]:
        found = [(row, c) for c in self.in_row[row] if (row, c) not in self.withheld]
        return sorted(found, key=lambda cell: (sum(self.counts[cell]), cell))

    def _shown_in_column(self, column: str) -> list[Cell]:
        found = [(r, column) for r in self.in_column[column] if (r, column) not in self.withheld]
        return sorted(found, key=lambda cell: (sum(self.counts[cell]), cell))

    def _add_first(self, candidates: list[Cell]) -> bool:
        if not candidates:
            return False
        self.withheld.add(candidates[0])
        self.graph.update_row(candidates[0][0])
        return True

    def _add_one_that_frees(self, candidates: Iterable[Cell], pinned: Callable[[], bool]) -> bool:
        for cell in candidates:
            self.withheld.add(cell)
            self.graph.update_row(cell[0])
            if not pinned():
                return True
            self.withheld.discard(cell)
            self.graph.update_row(cell[0])
        return False

    def _withhold_total(self, column: str) -> bool:
        if column in self.totals_withheld:
            return False
        self.totals_withheld.add(column)
        self.graph.rebuild()
        return True

    def result(self) -> TwoWay:
        return TwoWay(self.primary, frozenset(self.withheld), frozenset(self.totals_withheld))

    def fallback(self) -> TwoWay:
        return TwoWay(self.primary, frozenset(self.counts), frozenset(self.columns), True)


def _sum(counts: Iterable[Counts]) -> Counts:
    first = second = 0
    for a, b in counts:
        first, second = first + a, second + b
    return (first, second)


Signature = tuple[frozenset[str], frozenset[str]]


class _Graph:
    """The residual graph of the released system, folded onto the columns.

    Nodes: the columns, ROWS (joined to every row whose total is withheld) and COLUMNS
    (joined to every column whose total is withheld; the same node as ROWS when the
    grand total is withheld too). A withheld cell (r, c) with first count x of t gives
    the arcs c -> r (x can go down) and r -> c (x can go up); a withheld row total gives
    ROWS <-> r. A row r is folded into arcs a -> b for a in `ins` (arcs into r) and b in
    `outs`, counted per pair so that one row's can be taken out again."""

    def __init__(self, table: _Table, columns_node: str) -> None:
        self.table = table
        self.columns_node = columns_node
        self.signature: dict[str, Signature] = {}
        self.arcs: Counter[tuple[str, str]] = Counter()
        self.memo: dict[tuple[object, ...], bool] = {}
        # Every node's reachable nodes with every row in: most rows are one of many
        # witnesses of each of their arcs, so taking them out changes nothing.
        self.closure: dict[str, set[str]] | None = None
        self.single: set[tuple[str, str]] | None = None  # arcs of one row only
        self.fragile: dict[Signature, bool] = {}  # per signature, with `single`

    def rebuild(self) -> None:
        self.signature.clear()
        self.arcs.clear()
        for row in self.table.rows:
            self.update_row(row)

    def _row_signature(self, row: str) -> Signature:
        t = self.table
        ins, outs = set(), set()
        for c in t.in_row[row]:
            if (row, c) in t.withheld:
                x, n = t.counts[(row, c)]
                if x > 0:
                    ins.add(c)
                if n > 0:
                    outs.add(c)
        if row not in t.released_rows:
            ins.add(ROWS)
            outs.add(ROWS)
        return frozenset(ins), frozenset(outs)

    def update_row(self, row: str) -> None:
        old = self.signature.get(row)
        if old is not None:
            self.arcs.subtract(_pairs(old))
        new = self._row_signature(row)
        self.signature[row] = new
        self.arcs.update(_pairs(new))
        self.memo.clear()
        self.closure = self.single = None

    def _margin_arcs(self, skip: str | None = None) -> list[tuple[str, str]]:
        node = self.columns_node
        return [
            arc for c in self.table.totals_withheld if c != skip for arc in ((c, node), (node, c))
        ]

    def _reach(
        self,
        sources: Iterable[str],
        targets: set[str],
        without: Signature | None,
        skip: str | None = None,
    ) -> bool:
        """Whether a node of `targets` can be reached from `sources`, the row of
        signature `without` taken out (and the margin arcs of column `skip`)."""
        if skip is None and (without is None or not self._fragile(without)):
            closure = self._closure()
            return any(closure[source] & targets for source in sources)
        own = Counter(_pairs(without)) if without is not None else Counter()
        next_of: dict[str, list[str]] = {}
        for (a, b), n in self.arcs.items():
            if n - own[(a, b)] > 0:
                next_of.setdefault(a, []).append(b)
        for a, b in self._margin_arcs(skip):
            next_of.setdefault(a, []).append(b)
        seen = set(sources)
        queue = deque(seen)
        while queue:
            node = queue.popleft()
            if node in targets:
                return True
            for following in next_of.get(node, ()):
                if following not in seen:
                    seen.add(following)
                    queue.append(following)
        return False

    def _fragile(self, signature: Signature) -> bool:
        """Whether the row of `signature` is the only witness of one of its arcs."""
        if self.single is None:
            self.single = {pair for pair, n in self.arcs.items() if n == 1}
            self.fragile.clear()
        found = self.fragile.get(signature)
        if found is None:
            found = bool(self.single) and any(pair in self.single for pair in _pairs(signature))
            self.fragile[signature] = found
        return found

    def _closure(self) -> _Closure:
        if self.closure is None:
            next_of: dict[str, set[str]] = {}
            for (a, b), n in self.arcs.items():
                if n > 0:
                    next_of.setdefault(a, set()).add(b)
            for a, b in self._margin_arcs():
                next_of.setdefault(a, set()).add(b)
            closure = {}
            for node in next_of:
                seen = {node}
                queue = deque([node])
                while queue:
                    for following in next_of.get(queue.popleft(), ()):
                        if following not in seen:
                            seen.add(following)
                            queue.append(following)
                closure[node] = seen
            self.closure = closure
        return _Closure(self.closure)

    def pinned_cell(self, row: str, column: str) -> bool:
        sig = self.signature[row]
        x, n = self.table.counts[(row, column)]
        key = ("cell", sig, column, x > 0, n > 0)
        if key not in self.memo:
            ins, outs = sig[0] - {column}, sig[1] - {column}
            up = n > 0 and bool(ins) and self._reach([column], set(ins), sig)
            down = x > 0 and bool(outs) and self._reach(outs, {column}, sig)
            self.memo[key] = not (up or down)
        return self.memo[key]

    def pinned_row(self, row: str) -> bool:
        sig = self.signature[row]
        key = ("row", sig)
        if key not in self.memo:
            ins, outs = sig[0] - {ROWS}, sig[1] - {ROWS}
            up = bool(outs) and self._reach(outs, {ROWS}, sig)
            down = bool(ins) and self._reach([ROWS], set(ins), sig)
            self.memo[key] = not (up or down)
        return self.memo[key]

    def pinned_column(self, column: str) -> bool:
        key = ("column", column)
        if key not in self.memo:
            node = self.columns_node
            self.memo[key] = not (
                self._reach([column], {node}, None, skip=column)
                or self._reach([node], {column}, None, skip=column)
            )
        return self.memo[key]


class _Closure(dict[str, set[str]]):
    """Each node's reachable nodes (itself included; a node with no arc out: itself)."""

    def __missing__(self, node: str) -> set[str]:
        return {node}


def _pairs(signature: Signature) -> list[tuple[str, str]]:
    ins, outs = signature
    return [(a, b) for a in ins for b in outs if a != b]
