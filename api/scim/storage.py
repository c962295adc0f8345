"""scim2-server's storage over our ports: reads go to the directory read model (after
it has caught up with the log, so an IdP reads its own writes), every write is the
directory command `upsertPeople` runs, acting as the caller (the integration)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from scim2_models import (
    ConflictException,
    ForbiddenException,
    InvalidValueException,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    SCIMException,
    SearchRequest,
    UniquenessException,
)
from scim2_server.storage import AsyncScimStorage, SearchPage
from sqlalchemy import Connection

from api.http.consistency import ConsistencyWaiter, NotYetConsistent
from api.http.numbers import INT64_MAX
from api.ports import Ports
from api.scim.filters import sql_condition
from api.scim.mapping import entry_of, removal_of, user_of, version_of
from api.scim.models import MAX_RESULTS
from domain.access import Actor
from domain.application import Request
from domain.application.commands import DirectoryEntry, UpsertPeople
from domain.directory_guard import GuardPolicy
from domain.errors import DomainError, Forbidden, VersionConflict
from domain.person import Person
from projections import directory as d
from projections.rows import Row, person_row
from projections.tables import ReadModel

T = TypeVar("T")
log = logging.getLogger("crafting.scim")
caller: contextvars.ContextVar[tuple[Actor, str]] = contextvars.ContextVar("scim_caller")


class DeactivationHeld(SCIMException):
    """The request's deactivation is held for HR (the mass-deactivation guard): 202,
    so the IdP neither retries nor believes the person gone."""

    status = 202
    _default_detail = (
        "Accepted, not applied: this deactivation is part of a wave larger than the "
        "directory allows at once and is held until HR confirms it."
    )


class UnavailableException(SCIMException):
    status = 503
    _default_detail = "The directory is busy; retry shortly."


class DirectoryStorage(AsyncScimStorage):
    """Users only; `id` is the person id."""

    def __init__(self, ports: Ports, consistency: ConsistencyWaiter) -> None:
        self.ports = ports
        self.consistency = consistency

    # --- reads --------------------------------------------------------------

    async def _read(self, query: Callable[[Connection, ReadModel], T]) -> T:
        actor, _ = caller.get()
        head = await asyncio.to_thread(self.ports.commands.log_head)
        try:
            await self.consistency.wait(actor.id, head)
        except NotYetConsistent:
            raise UnavailableException() from None
        return await asyncio.to_thread(self.ports.reads.run, query)

    async def _row(self, person_id: str) -> Row:
        row = await self._read(lambda c, rm: d.directory_person(c, rm, person_id))
        if row is None or row["deprovisioned"] or row["erased"]:
            raise NotFoundException(detail=f"No user with id '{person_id}'.")
        return row

    async def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        """One user (deprovisioned people are gone for SCIM)."""
        user: Resource[Any] = user_of(await self._row(resource_id))
        return user

    async def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        """Filter in SQL where the filter allows it, else match every visible user."""
        # RFC 7644 §3.4.2.4: below 1 means 1, past the last result an empty page; an
        # index beyond what SQL's 64-bit OFFSET holds is past every result too.
        start = min(max((search_request.start_index or 1) - 1, 0), INT64_MAX)
        count = min(search_request.count if search_request.count is not None else 100, MAX_RESULTS)
        count = max(count, 0)
        scim_filter = search_request.filter

        condition_of = None if scim_filter is None else scim_filter.ast

        def indexed(conn: Connection, rm: ReadModel) -> tuple[int, list[Row]] | None:
            condition = None if condition_of is None else sql_condition(condition_of, rm)
            if condition_of is not None and condition is None:
                return None
            return d.directory_page(conn, rm, condition, start, count)

        page = await self._read(indexed)
        if page is not None:
            total, rows = page
            return SearchPage(total=total, resources=[user_of(r) for r in rows])
        # Any other filter: matched on every visible user, once their data is opened.
        _, rows = await self._read(lambda c, rm: d.directory_page(c, rm, None, 0, None))
        assert scim_filter is not None
        matched = [u for u in map(user_of, rows) if scim_filter.match(u)]
        return SearchPage(total=len(matched), resources=matched[start : start + count])

    # --- writes -------------------------------------------------------------

    async def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        """Provision a person; a deprovisioned one comes back (nothing was erased)."""
        person_id = getattr(resource, "user_name", None) or ""
        current = await self._read(lambda c, rm: d.directory_person(c, rm, person_id))
        if current is not None and current["erased"]:
            raise UniquenessException(
                detail=f"'{person_id}' was erased: the id cannot be provisioned again."
            )
        if current is not None and not current["deprovisioned"]:
            raise UniquenessException(detail=f"A user with userName '{person_id}' exists.")
        default = self.ports.provisioning.default_contracted_hours
        entry = entry_of(resource, current, default)
        return await self._write(entry, None if current is None else current["version"])

    async def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        """PUT and PATCH: scim2-server applied the request to what `get` returned, and
        passes that version, so a concurrent change is a 412, never lost."""
        current = await self._row(str(resource.id))
        entry = entry_of(resource, current, self.ports.provisioning.default_contracted_hours)
        return await self._write(entry, self._expected(expected_version, current))

    async def delete(
        self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Deprovision: deactivated and hidden from SCIM, recorded, never erased."""
        current = await self._row(resource_id)
        await self._write(removal_of(current), self._expected(expected_version, current))

    @staticmethod
    def _expected(tag: str | None, current: Row) -> int:
        version = version_of(tag)
        if tag is not None and version is None:
            raise PreconditionFailedException(detail=f"'{tag}' is not a version of this user.")
        return current["version"] if version is None else version

    async def _write(self, entry: DirectoryEntry, expected: int | None) -> Resource[Any]:
        actor, correlation = caller.get()
        ports = self.ports
        size = await asyncio.to_thread(ports.reads.run, d.active_people)
        policy = ports.provisioning
        command = UpsertPeople(
            people=[entry],
            expected_version=expected,
            managers_may_follow=True,
            guard=GuardPolicy(
                directory_size=size,
                max_share=policy.deactivation_share,
                window=policy.deactivation_window,
                min_people=policy.deactivation_min_people,
            ),
        )
        try:
            result = await asyncio.to_thread(
                ports.commands.execute, Request(actor, correlation), command
            )
        except VersionConflict as error:
            if error.field == "expectedVersion":
                raise PreconditionFailedException(detail=error.message) from None
            raise ConflictException(detail=error.message) from None
        except DomainError as error:
            field = f"{error.field}: " if error.field else ""
            raise InvalidValueException(detail=f"{field}{error.message}") from None
        except Forbidden as error:
            raise ForbiddenException(detail=error.message) from None
        (person,) = result.people
        if person.profile.active and not entry.profile.active:
            log.warning(
                "a SCIM deactivation was held by the mass-deactivation guard: "
                "HR confirms or dismisses the wave (heldDeactivations)"
            )
            raise DeactivationHeld()
        return self._shown(person)

    @staticmethod
    def _shown(person: Person) -> Resource[Any]:
        """The write model's person as the read row would show it (reads may lag)."""
        shown: Resource[Any] = user_of(person_row(person))
        return shown
