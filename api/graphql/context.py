"""Per-request context: the caller, their visibility, and batched loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.graphql.errors import ForbiddenError, UnavailableError
from api.graphql.rows import Row
from api.http.consistency import ConsistencyWaiter
from api.ports import Ports
from domain.access import Actor, can_read_person, sees_all
from domain.application import Request
from domain.sealing import KeysUnavailable
from domain.values import Role
from projections import queries as q
from projections.tables import ReadModel

T = TypeVar("T")
Q = TypeVar("Q")


@dataclass
class Context(BaseContext):
    ports: Ports
    actor: Actor
    correlation_id: str
    consistency: ConsistencyWaiter
    _loaders: dict[str, DataLoader[str, Any]] = field(default_factory=dict)
    # The lean route ran this request's compiled plan and it declined (arguments the
    # resolvers refuse, or a fault): the schema's extension does not run it again.
    compiled_tried: bool = False

    @property
    def command_request(self) -> Request:
        """The caller and request id, as the application takes them."""
        return Request(self.actor, self.correlation_id)

    @property
    def scope(self) -> q.ReadScope:
        """What the caller may read, for the read queries."""
        return q.ReadScope(
            person_id=self.actor.id,
            sees_all=sees_all(self.actor),
            is_manager=self.actor.has(Role.MANAGER),
        )

    async def read(self, query: Callable[[Connection, ReadModel], T]) -> T:
        """Run a read query in a worker thread, on the live read-model tables, in one
        transaction (so the generation cannot switch under it)."""

        return await self._threaded(self.ports.reads.run, query)

    async def read_alone(self, statement: Callable[[Connection], T]) -> T:
        """Run one statement that finds the live generation itself in a worker thread,
        without a transaction (`Reads.run_alone`)."""
        return await self._threaded(self.ports.reads.run_alone, statement)

    async def _threaded(self, run: Callable[[Q], T], query: Q) -> T:
        try:
            return await asyncio.to_thread(run, query)
        except KeysUnavailable:
            raise UnavailableError from None

    def children(self, kind: str) -> DataLoader[str, list[Row]]:
        """Batched children of agreements: one query for the whole page."""

        async def load(ids: list[str]) -> list[list[Row]]:
            found = await self.read(lambda c, rm: q.children(c, rm, kind, ids))
            return [found.get(i, []) for i in ids]

        return self._loader(kind, load)

    def people(self) -> DataLoader[str, Row | None]:
        """Batched people by id: one query for every person a response names."""

        async def load(ids: list[str]) -> list[Row | None]:
            found = await self.read(lambda c, rm: q.people_by_id(c, rm, ids))
            return [found.get(i) for i in ids]

        return self._loader("people", load)

    async def visible_person(self, person_id: str) -> Row | None:
        """The person if the caller may read them (domain.access), else FORBIDDEN,
        found or not (None: not found, for those who may read anyone)."""
        row, me = await self.people().load_many([person_id, self.actor.id])
        theirs = None if row is None else row["manager_id"]
        if can_read_person(self.actor, person_id, theirs, None if me is None else me["manager_id"]):
            return row
        raise ForbiddenError(
            "Reading a person needs the person, their manager, one of their direct reports, "
            "HR, AUDITOR or INTEGRATION."
        )

    def _loader(self, name: str, load: Callable[[list[str]], Any]) -> DataLoader[str, Any]:
        if name not in self._loaders:
            self._loaders[name] = DataLoader(load_fn=load)
        return self._loaders[name]
