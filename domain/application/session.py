"""What a command handler may use while it runs: a protocol, so the handlers depend on
these few operations and not on the application that provides them (no import cycle)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.access import Actor, Party
from domain.agreement import Agreement
from domain.directory_guard import DeactivationGuard
from domain.dossier.register import DossierRegister
from domain.ledger import HoursLedger
from domain.metadata import Meta
from domain.person import Person
from domain.values import Role
from domain.webhooks import WebhookSubscription
from domain.webhooks.policy import WebhookPolicy


class Contended(Exception):
    """Raised by a handler when something it relies on was taken by a concurrent
    command (a secret's generation): the command is judged again on the new state."""


class CommandSession(Protocol):
    """One attempt at one command: what it loads, and what it saves together."""

    @property
    def actor(self) -> Actor:
        """Who runs the command."""
        ...

    @property
    def today(self) -> date:
        """The date the command runs on."""
        ...

    @property
    def now(self) -> datetime:
        """The instant the command runs at (UTC)."""
        ...

    @property
    def max_hours_received_per_week(self) -> float:
        """Rule 4's limit."""
        ...

    def meta(self, role: Role | str) -> Meta:
        """The metadata of the events this command records, acting as `role`."""
        ...

    def agreement(self, agreement_id: UUID, party: Party) -> tuple[Agreement, Meta]:
        """An agreement the caller may act on as `party`, enlisted to be saved."""
        ...

    def person(self, person_id: str, field_name: str) -> Person:
        """An active person of the directory, or UNKNOWN_PERSON."""
        ...

    def find_person(self, person_id: str) -> Person | None:
        """A person of the directory, active or not."""
        ...

    def manager_of(self, employee_id: str) -> str | None:
        """The employee's current manager in the directory."""
        ...

    def ledger(self, person_id: str, meta: Meta) -> HoursLedger:
        """The person's hours ledger, enlisted to be saved."""
        ...

    def prefetch(self, person_ids: Sequence[str], ledger_owners: Sequence[str]) -> None:
        """Look up these people and these people's ledgers ahead, together where that
        saves reads of the store (`find_person` and `ledger` then find them)."""
        ...

    def deactivation_guard(self, meta: Meta) -> DeactivationGuard:
        """The directory's deactivation guard (opened if new), enlisted to be saved."""
        ...

    def dossier_register(self, agreement_id: UUID, meta: Meta) -> DossierRegister:
        """The register of the agreement's dossiers (opened if new), enlisted to be saved."""
        ...

    def subscription(self, subscription_id: UUID) -> tuple[WebhookSubscription, Meta]:
        """A webhook subscription the caller may manage, at the expected version,
        enlisted to be saved."""
        ...

    @property
    def webhooks(self) -> WebhookPolicy:
        """The secrets, URL guard and settings of webhook subscriptions."""
        ...

    def on_abort(self, undo: Callable[[], None]) -> None:
        """Call `undo` if this attempt records nothing (refused, failed or retried)."""
        ...

    def after_save(self, step: Callable[[], None]) -> None:
        """Call `step` once this attempt's events are recorded."""
        ...

    def enlist(self, aggregate: Aggregate) -> None:
        """Save `aggregate` with the command's other changes, atomically."""
        ...

    def destroy_key(self, subject_id: str) -> None:
        """Destroy the subject's data key in the transaction that saves the changes."""
        ...
