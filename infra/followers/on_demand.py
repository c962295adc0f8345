"""A mapping that reads what it is asked for from a table: the routes, teams and
preferences the followers' planners (notifications, webhooks) look up as they plan.

Planning a batch used to read every person's row (and every stored preference): each
command's round cost a read of the whole organisation (10,000 rows at 10,000 people).
A planner now reads, in a few statements, the rows a batch will ask for; anything it
did not foresee is read when asked, so it sees what the whole table would have told it,
whatever it asks."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar, overload

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

CHUNK = 500  # keys per statement: well within every database's limit on parameters


class OnDemand(dict[K, V]):
    """The rows of a table by key, read a unit at a time (a unit: what one key belongs
    to, e.g. a person for a (person, kind) preference) and remembered, present or not.
    What the caller sets is kept as set and never read over."""

    def __init__(
        self, unit_of: Callable[[K], Hashable], read: Callable[[list[Any]], dict[K, V]]
    ) -> None:
        super().__init__()
        self._unit_of = unit_of
        self._read = read
        self._read_units: set[Hashable] = set()

    def fetch(self, units: Iterable[Hashable]) -> None:
        """Read these units' rows now, in one go (those not read before)."""
        wanted = sorted({u for u in units if u not in self._read_units}, key=str)
        if not wanted:
            return
        self._read_units.update(wanted)
        for start in range(0, len(wanted), CHUNK):
            for key, value in self._read(wanted[start : start + CHUNK]).items():
                self.setdefault(key, value)  # a value the caller set is newer than the table's

    def learned(self, key: K, value: V) -> None:
        """A row another statement read whole (the same row `read` would give for
        `key`): kept unless the caller set one, and its unit counted as read, so a later
        `fetch` does not read it again. Only for units of one row."""
        self.setdefault(key, value)
        self._read_units.add(self._unit_of(key))

    def _ensure(self, key: object) -> None:
        if not dict.__contains__(self, key):
            self.fetch([self._unit_of(key)])  # type: ignore[arg-type]

    def __missing__(self, key: K) -> V:
        self._ensure(key)
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        self._ensure(key)
        return dict.__contains__(self, key)

    @overload
    def get(self, key: K, default: None = None, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V, /) -> V: ...
    @overload
    def get(self, key: K, default: T, /) -> V | T: ...
    def get(self, key: K, default: object = None, /) -> object:
        self._ensure(key)
        return dict.get(self, key, default)
