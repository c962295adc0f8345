"""One attempt at one command: what it loads, and what it saves together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.access import (
    MANAGE_WEBHOOKS,
    NEEDED,
    Actor,
    Party,
    acting_role,
    can_manage_subscription,
    webhook_role,
)
from domain.agreement import Agreement
from domain.application.commands import Command, Request
from domain.directory_guard import DeactivationGuard
from domain.dossier.register import DossierRegister
from domain.errors import Forbidden, InvalidInput, NotFound, UnknownPerson, VersionConflict
from domain.ledger import HoursLedger
from domain.metadata import Meta
from domain.person import Person
from domain.values import Role, optional_text
from domain.webhooks import WebhookSubscription
from domain.webhooks.policy import DELIVERY_WORKER, SYSTEM_ROLE, WebhookPolicy


class WriteModel(Protocol):
    """The reads a unit of work makes of the stored aggregates (the application)."""

    max_hours_received_per_week: float
    webhooks: WebhookPolicy | None

    def load_agreement(self, agreement_id: UUID) -> Agreement | None:
        """The agreement, or None (no access check)."""
        ...

    def load_agreement_with_employee(
        self, agreement_id: UUID
    ) -> tuple[Agreement | None, dict[str, Person | None]]:
        """The agreement (no access check) and the people of the directory read with it,
        by id (its employee, when that costs no read of its own)."""
        ...

    def find_person(self, person_id: str) -> Person | None:
        """A person of the directory, active or not."""
        ...

    def find_ledger(self, person_id: str) -> HoursLedger | None:
        """The person's hours ledger, or None if nothing was ever booked."""
        ...

    def find_together(
        self, person_ids: Sequence[str], ledger_owners: Sequence[str]
    ) -> tuple[dict[str, Person | None], dict[str, HoursLedger]] | None:
        """These people (as `find_person`) and these people's ledgers (as
        `find_ledger`), with one read of the store when all are cached; else None."""
        ...

    def find_deactivation_guard(self) -> DeactivationGuard | None:
        """The directory's deactivation guard, or None if never opened."""
        ...

    def load_subscription(self, subscription_id: UUID) -> WebhookSubscription | None:
        """The webhook subscription, or None (no access check)."""
        ...

    def find_dossier_register(self, agreement_id: UUID) -> DossierRegister | None:
        """The register of the agreement's dossiers, or None before the first."""
        ...


@dataclass
class UnitOfWork:
    """Implements `CommandSession` for the handlers: loads, checks who may act, and
    collects every aggregate the command changes, to be saved in one transaction."""

    model: WriteModel
    request: Request
    command: Command
    now: datetime
    pending: list[Aggregate] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)  # subjects whose keys go
    undo: list[Callable[[], None]] = field(default_factory=list)  # if nothing is recorded
    then: list[Callable[[], None]] = field(default_factory=list)  # once recorded
    # The people this attempt looked up, by id (None: not in the directory): a command
    # asks for the same person more than once (approving reads the employee's manager
    # for the access check, then again for the approval), and each read is a round trip
    # to the store and a copy. Only until the attempt changes a person: from then on
    # every lookup reads the store, as if there were no map (a handler that changed a
    # person and looks them up again gets the stored state, not its own copy).
    people: dict[str, Person | None] | None = field(default_factory=dict, repr=False)
    # Ledgers looked up ahead (`prefetch`), by owner, until `ledger` asks for them.
    ledgers_ahead: dict[str, HoursLedger] = field(default_factory=dict, repr=False)

    @property
    def actor(self) -> Actor:
        """Who runs the command."""
        return self.request.actor

    @property
    def today(self) -> date:
        """The date the command runs on."""
        return self.now.date()

    @property
    def max_hours_received_per_week(self) -> float:
        """Rule 4's limit."""
        return self.model.max_hours_received_per_week

    def meta(self, role: Role | str) -> Meta:
        """The metadata of the events this command records, acting as `role`."""
        return Meta(
            actor_id=self.request.actor.id,
            actor_role=str(role),
            correlation_id=self.request.correlation_id,
            reason=optional_text(self.command.reason, "reason", max_length=2000, multiline=True),
            idempotency_key=self.command.idempotency_key,
        )

    def agreement(self, agreement_id: UUID, party: Party) -> tuple[Agreement, Meta]:
        """Load an agreement the caller may act on as `party`, at the expected version."""
        agreement, people = self.model.load_agreement_with_employee(agreement_id)
        if self.people is not None:
            for person_id, person in people.items():
                self.people.setdefault(person_id, person)
        if agreement is None:
            if self.request.actor.has(Role.HR):  # only HR may act on any agreement
                raise NotFound("No agreement with this id.", "agreementId")
            raise Forbidden(NEEDED[party])
        # Whoever may act on an agreement may read it, so one directory lookup serves.
        role = acting_role(
            self.request.actor,
            party,
            agreement.employee_id,
            self.manager_of(agreement.employee_id),
        )
        expected = self.command.expected_version
        if expected is not None and agreement.version != expected:
            raise VersionConflict(
                f"The agreement is at version {agreement.version}, not {expected}.",
                "expectedVersion",
            )
        self.enlist(agreement)
        return agreement, self.meta(role)

    def person(self, person_id: str, field_name: str) -> Person:
        """An active person of the directory, or UNKNOWN_PERSON."""
        person = self.find_person(person_id)
        if person is None or not person.profile.active:
            raise UnknownPerson(f"No active person with id '{person_id}'.", field_name)
        return person

    def find_person(self, person_id: str) -> Person | None:
        """A person of the directory, active or not (read once per attempt until the
        attempt changes a person)."""
        people = self._people_map()
        if people is None:
            return self.model.find_person(person_id)
        if person_id not in people:
            people[person_id] = self.model.find_person(person_id)
        return people[person_id]

    def manager_of(self, employee_id: str) -> str | None:
        """The employee's current manager in the directory."""
        person = self.find_person(employee_id)
        return None if person is None else person.profile.manager_id

    def prefetch(self, person_ids: Sequence[str], ledger_owners: Sequence[str]) -> None:
        """Look up people and people's ledgers this attempt is about to ask for with one
        read of the store, when all are cached (a reallocation asks for the receiver,
        then both ledgers: three reads). Each is what `find_person` and `ledger` would
        have read alone (a copy, fast-forwarded); they find it here. Anything not
        cached, or a single lookup, is left to them."""
        people = self._people_map()
        if people is None:
            return
        wanted = [p for p in dict.fromkeys(person_ids) if p not in people]
        owners = [
            o
            for o in dict.fromkeys(ledger_owners)
            if o not in self.ledgers_ahead and self._pending_ledger(o) is None
        ]
        if len(wanted) + len(owners) < 2:
            return
        found = self.model.find_together(wanted, owners)
        if found is not None:
            for person_id, person in found[0].items():
                people.setdefault(person_id, person)
            self.ledgers_ahead.update(found[1])

    def _people_map(self) -> dict[str, Person | None] | None:
        people = self.people
        if people is not None and any(p is not None and p.pending_events for p in people.values()):
            people = self.people = None  # a person looked up here was changed: the map ends
        return people

    def _pending_ledger(self, person_id: str) -> HoursLedger | None:
        for aggregate in self.pending:
            if isinstance(aggregate, HoursLedger) and aggregate.person_id == person_id:
                return aggregate
        return None

    def ledger(self, person_id: str, meta: Meta) -> HoursLedger:
        """The person's hours ledger (opened if new), enlisted to be saved."""
        pending = self._pending_ledger(person_id)
        if pending is not None:
            return pending
        ledger = self.ledgers_ahead.pop(person_id, None)
        if ledger is None:
            ledger = self.model.find_ledger(person_id)
        if ledger is None:
            ledger = HoursLedger.open(person_id, meta)
        self.enlist(ledger)
        return ledger

    def deactivation_guard(self, meta: Meta) -> DeactivationGuard:
        """The directory's deactivation guard (opened if new), enlisted to be saved."""
        for aggregate in self.pending:
            if isinstance(aggregate, DeactivationGuard):
                return aggregate
        guard = self.model.find_deactivation_guard() or DeactivationGuard.open(meta)
        self.enlist(guard)
        return guard

    def dossier_register(self, agreement_id: UUID, meta: Meta) -> DossierRegister:
        """The register of the agreement's dossiers (opened if new), enlisted to be saved."""
        register = self.model.find_dossier_register(agreement_id)
        if register is None:
            register = DossierRegister.open(agreement_id, meta)
        self.enlist(register)
        return register

    def subscription(self, subscription_id: UUID) -> tuple[WebhookSubscription, Meta]:
        """Load a webhook subscription the caller may manage, at the expected version:
        FORBIDDEN whether or not it exists, so ids cannot be probed. The delivery
        worker acts on any subscription."""
        worker = self.request.actor is DELIVERY_WORKER
        role = SYSTEM_ROLE if worker else webhook_role(self.request.actor)
        sub = self.model.load_subscription(subscription_id)
        if sub is None or not (worker or can_manage_subscription(self.actor, sub.owner_id)):
            raise Forbidden(MANAGE_WEBHOOKS + " An integration manages its own only.")
        expected = self.command.expected_version
        if expected is not None and sub.version != expected:
            raise VersionConflict(
                f"The subscription is at version {sub.version}, not {expected}.",
                "expectedVersion",
            )
        self.enlist(sub)
        return sub, self.meta(role)

    @property
    def webhooks(self) -> WebhookPolicy:
        """The secrets, URL guard and settings of webhook subscriptions."""
        if self.model.webhooks is None:
            raise InvalidInput("Webhooks are not set up in this process.", "subscriptionId")
        return self.model.webhooks

    def on_abort(self, undo: Callable[[], None]) -> None:
        """Call `undo` if this attempt records nothing (refused, failed or retried)."""
        self.undo.append(undo)

    def after_save(self, step: Callable[[], None]) -> None:
        """Call `step` once this attempt's events are recorded."""
        self.then.append(step)

    def aborted(self) -> None:
        """This attempt recorded nothing: undo what it did outside the event store."""
        for undo in reversed(self.undo):
            undo()

    def saved(self) -> None:
        """This attempt's events are recorded: run what waited for them."""
        for step in self.then:
            step()

    def enlist(self, aggregate: Aggregate) -> None:
        """Save `aggregate` with the command's other changes, atomically."""
        if isinstance(aggregate, Person):
            self.people = None  # a person this attempt changes: lookups read the store again
        if all(a is not aggregate for a in self.pending):
            self.pending.append(aggregate)

    def destroy_key(self, subject_id: str) -> None:
        """Destroy the subject's data key in the transaction that saves the changes."""
        self.destroyed.append(subject_id)
