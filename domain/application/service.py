"""The application: runs commands atomically, with retries, idempotency keys and
optimistic concurrency, and reads the write model (including time travel)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar, cast
from uuid import UUID

import orjson
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import (
    EventStore,
    JSONTranscoder,
    Mapper,
    RecordConflictError,
    Recording,
)

from domain.access import (
    MANAGE_WEBHOOKS,
    READ_AGREEMENT,
    Actor,
    can_manage_subscription,
    can_read_agreement,
    require_directory_writer,
    sees_all,
)
from domain.agreement import Agreement
from domain.agreement.events import AgreementEvent, ChangeReverted, Proposed
from domain.agreement.snapshot import SNAPSHOT_EVERY, takes_snapshot_at
from domain.application import commands as c
from domain.application.commands import Command, CommandResult, Request
from domain.application.handlers import Outcome, handle
from domain.application.replay import ReplayingRepository, replay
from domain.application.session import Contended
from domain.application.unit_of_work import UnitOfWork
from domain.directory_guard import GUARD_ID, DeactivationGuard
from domain.dossier.register import DossierRegister
from domain.errors import Forbidden, IdempotencyKeyReused, InvalidInput, NotFound, VersionConflict
from domain.event_tags import TaggingMapper
from domain.idempotency import IdempotencyRecord
from domain.ledger import HoursLedger, LedgerOutOfStep
from domain.person import Person
from domain.sealing import ERASED, Keys, KeysUnavailable, Opened, holds_clear_text, sealing_with
from domain.snapshots import TaggedSnapshotStore, Tampered
from domain.transcodings import register_all
from domain.values import text
from domain.webhooks import WebhookSubscription
from domain.webhooks.policy import DELIVERY_WORKER, SubscriptionChange, WebhookPolicy

log = logging.getLogger(__name__)
_TIMESTAMP_FIRST = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'
"""How an event's stored JSON starts: its timestamp is the first field the mapper keeps
(the library's JSON transcoder writes a datetime as its ISO form, which holds no quote)."""
PositionLookup = Callable[[UUID, int], int | None]
"""Finds the log position of an aggregate's event; wired by infra per database."""
StatesOf = Callable[[list[int]], dict[int, bytes]]
StoredStates = Callable[[UUID], AbstractContextManager[StatesOf]]
"""Opens one read of a stream: the stored states of its events at some versions, as
the mapper wrote them; wired by infra per database."""


def _agreement_title(found: Any) -> Any:
    """An agreement's value sealed under its employee's key (see `_get`)."""
    return found.title if isinstance(found, Agreement) else None


def _display_name(found: Any) -> Any:
    """A person's value sealed under their key (see `_get`)."""
    return found.profile.display_name if isinstance(found, Person) else None


class _Collected(ProcessingEvent[UUID]):
    """The library's `ProcessingEvent`, taking the pending events of an `Aggregate` (all
    of ours are) without asking first whether it is a domain event and whether it can
    collect events: each is an isinstance against a runtime-checkable protocol, which
    on Python 3.11 walks the protocol's attributes in Python (~8 µs each, two an
    aggregate saved). An aggregate is never a domain event (it has no `originator_id`);
    anything else is collected by the library's own checks."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            else:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


class CraftingApplication(Application[UUID]):
    """Every state change goes through `execute`."""

    name = "Crafting"
    # The deactivation guard is not snapshotted (its last event is part of its state,
    # which snapshots cannot hold): the aggregate cache fast-forwards it instead.
    # Agreements are snapshotted every SNAPSHOT_EVERY events (`_take_snapshots`,
    # domain.agreement.snapshot.snapshot_step).
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Agreement: SNAPSHOT_EVERY}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        max_hours_received_per_week: float = 4.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        attempts: int = 12,
        snapshot_key: bytes | None = None,
        event_tag_key: bytes | None = None,
        on_tampered_snapshot: Tampered = lambda _id, _version: None,
        keys: Keys | None = None,
        keys_beside_events: bool = True,
        fingerprint_key: bytes | None = None,
    ) -> None:
        # Read by construct_mapper and construct_snapshot_store, which the library calls
        # while constructing.
        self._snapshot_key = snapshot_key
        self._event_tag_key = event_tag_key
        self._on_tampered_snapshot = on_tampered_snapshot
        self.keys = keys  # personal data sealed under its subject's key (domain.sealing)
        # Whether the key store is in the events' database: then an erasure destroys the
        # key in the transaction that records it; else right after (see _after_erasure).
        self.keys_beside_events = keys_beside_events
        self._fingerprint_key = fingerprint_key
        super().__init__(env)
        self.max_hours_received_per_week = max_hours_received_per_week
        self.clock = clock
        self.attempts = attempts
        self._positions: PositionLookup = self._scan_for_position
        self._stored_states: StoredStates = self._read_states
        self._stored_states_fan = 1
        self._on_saved: list[Callable[[int], None]] = []
        self.webhooks: WebhookPolicy | None = None  # set by infra (use_webhooks)

    def use_webhooks(self, policy: WebhookPolicy) -> None:
        """Where subscription secrets live, which URLs are allowed (wired by infra)."""
        self.webhooks = policy

    def set_stored_states(self, states: StoredStates, fan: int = 1) -> None:
        """Read stored events' states in one transaction, `fan` versions per read at
        most (wired by infra: 1 where a statement costs no round trip)."""
        self._stored_states = states
        self._stored_states_fan = fan

    def set_position_lookup(self, lookup: PositionLookup) -> None:
        """Use an indexed lookup of the store (wired by infra) instead of a scan."""
        self._positions = lookup

    def on_saved(self, callback: Callable[[int], None]) -> None:
        """Call `callback(last_position)` after every save (wakes the projections)."""
        self._on_saved.append(callback)

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """As the library saves (9.5.6's `Application.save`), collecting the events of
        our aggregates without its runtime-protocol checks (`_Collected`)."""
        processing_event = _Collected()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, as it calls it
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if recordings:
            last = recordings[-1].notification.id
            for callback in self._on_saved:
                callback(last)

    def construct_mapper(self) -> Mapper[UUID]:
        """With a tag key, every event is stored with its tag (domain.event_tags)."""
        mapper = super().construct_mapper()
        return TaggingMapper(
            mapper.transcoder, self._event_tag_key, mapper.compressor, mapper.cipher, self.keys
        )

    @property
    def tagging_mapper(self) -> TaggingMapper:
        """The mapper, as constructed here."""
        assert isinstance(self.mapper, TaggingMapper)
        return self.mapper

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot each saved agreement whose new events reach a version that
        `takes_snapshot_at` (the library's fixed interval would make each event of a
        long agreement pay more for snapshots, and store more of them)."""
        if self.snapshots is None:
            return
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            if isinstance(aggregate, Agreement) and takes_snapshot_at(event.originator_version):
                self.take_snapshot(event.originator_id, version=event.originator_version)
                # The cached agreement is fast-forwarded in place and copied before each
                # command, so its containers grow with every change since it was loaded.
                # Dropped now, it is loaded again from this snapshot (its tail, the rest
                # in chunks read when used): what a command copies stays bounded.
                if self.repository.cache is not None:
                    with suppress(KeyError):  # not cached, or another thread evicted it
                        self.repository.cache.get(event.originator_id, evict=True)

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, as the library configures it from the environment,
        replaying without its per-event protocol check (domain.application.replay)."""
        library = super().construct_repository()
        cache = library.cache
        return ReplayingRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            # No cache: None; unbounded: 0; else its size (the library's encoding).
            cache_maxsize=None if cache is None else getattr(cache, "maxsize", 0),
            fastforward=library.fastforward,
            fastforward_skipping=library.fastforward_skipping,
            deepcopy_from_cache=library.deepcopy_from_cache,
        )

    def take_snapshot(
        self, aggregate_id: UUID, version: int | None = None, projector_func: Any = replay
    ) -> None:
        """As the library takes one, replaying without its per-event protocol check."""
        super().take_snapshot(aggregate_id, version, projector_func)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """Snapshots tagged with a key only the service holds (domain.snapshots)."""
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return TaggedSnapshotStore(
            self.mapper,
            recorder,
            self._snapshot_key,
            self._on_tampered_snapshot,
            # The chunks of the agreements' logs, stored once apart (domain.snapshots).
            chunks=self.factory.aggregate_recorder(purpose="snapshot_chunks"),
            replay=self._replayed,
        )

    def _replayed(self, aggregate_id: UUID, version: int) -> Any:
        """The aggregate at `version` from its events alone (no snapshot, no cache)."""
        return ReplayingRepository(self.events).get(aggregate_id, version=version)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Our value objects and records, stored as tagged JSON (domain.transcodings)."""
        super().register_transcodings(transcoder)
        register_all(transcoder)

    # --- commands -------------------------------------------------------------

    def execute(self, request: Request, command: Command) -> CommandResult:
        """Run a command: all its events are recorded together, or none are."""
        key = command.idempotency_key
        if key is not None:
            text(key, "idempotencyKey", max_length=200)
        for attempt in range(self.attempts):
            if key is not None and (prior := self._prior_result(request, command)):
                return prior
            session = UnitOfWork(self, request, command, self.clock())
            try:
                with sealing_with(self.keys):
                    outcome = handle(session, command)
                    if getattr(command, "dry_run", False):
                        return self._dry_run(outcome)
                    if key is not None:
                        session.enlist(self._key_record(session, command, outcome))
                # What the caller is shown: the state this command wrote, copied before
                # the save puts `outcome` in the aggregate cache, where other requests may
                # fast-forward it in place (payloads build their children lazily).
                shown = deepcopy(outcome) if isinstance(outcome, Agreement) else outcome
                recordings = self.save(*session.pending, **self._erasing(session.destroyed))
            except (RecordConflictError, LedgerOutOfStep, Contended):
                # Someone else wrote one of our aggregates first: judge the command
                # again on the new state (an expectedVersion then fails cleanly).
                session.aborted()
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # noqa: S311 - jitter, not crypto
                continue
            except BaseException:
                session.aborted()
                raise
            session.saved()
            self._keep_saved(session.pending, recordings)
            position, last = self._positions_of(recordings, outcome)
            if session.destroyed:
                shown = self._after_erasure(session.destroyed)
            return replace(self._result(position, shown), last_position=last)
        raise VersionConflict("What this command changes kept changing while it ran; please retry.")

    def _keep_saved(self, saved: list[Any], recordings: list[Recording[UUID]]) -> None:
        """Cache the agreements and ledgers a command just recorded, in place of older
        copies. With fast-forwarding the library caches nothing it saves: the next
        command on the agreement read back and decoded the events this one had made
        (opening their sealed texts again) to fast-forward the copy cached before them,
        or decoded the whole stream if none was. It still reads past the cached version,
        so another writer's later events are applied as before. Only what nobody else
        holds is cached (`execute` answers with a copy of the agreement; ledgers are
        never shown); an agreement the save took a snapshot of is not (`_take_snapshots`
        drops it from the cache to bound what a command copies)."""
        cache = self.repository.cache
        if cache is None:
            return
        snapshotted = {
            r.domain_event.originator_id
            for r in recordings
            if self.snapshots is not None and takes_snapshot_at(r.domain_event.originator_version)
        }
        for aggregate in saved:
            if (
                not isinstance(aggregate, Agreement | HoursLedger)
                or aggregate.pending_events
                or aggregate.id in snapshotted
            ):
                continue
            try:
                cached = cache.get(aggregate.id)
            except KeyError:
                cached = None
            if cached is None or cached.version < aggregate.version:
                cache.put(aggregate.id, aggregate)

    def _positions_of(self, recordings: list[Recording[UUID]], outcome: Outcome) -> tuple[int, int]:
        """The positions a command answers with: the last event of the agreement or
        subscription it acted on (not of the hours ledgers it also booked, so that
        `auditLog(filter: {agreementId})` finds it; else the command's last event), and
        the command's last event (to wait for everything it wrote). The key's
        bookkeeping record is neither: it is not part of the feed or the log."""
        acted_on = (
            outcome.id
            if isinstance(outcome, Agreement)
            else outcome.subscription.id
            if isinstance(outcome, SubscriptionChange)
            else None
        )
        events = [
            r for r in recordings if not isinstance(r.domain_event, IdempotencyRecord.Recorded)
        ]
        if not events:  # nothing changed (e.g. an unchanged directory push)
            head = self.recorder.max_notification_id() or 0
            return head, head
        last = max(r.notification.id for r in events)
        own = max(
            (r.notification.id for r in events if r.domain_event.originator_id == acted_on),
            default=last,
        )
        return own, last

    def _dry_run(self, outcome: Outcome) -> CommandResult:
        """A command judged on copies (the repository hands out copies of what it
        caches), its events never saved."""
        assert isinstance(outcome, Agreement)
        reverted = tuple(
            e.reverted_change_id
            for e in outcome.pending_events
            if isinstance(e, ChangeReverted) and e.to_version is not None
        )
        position = self.recorder.max_notification_id() or 0
        return CommandResult(position, agreement=outcome, dry_run=True, would_revert=reverted)

    def _erasing(self, subjects: list[str]) -> dict[str, Any]:
        """What `save` passes the recorder so the subjects' keys are destroyed in the
        transaction that records their erasure (a store that cannot is refused)."""
        if not subjects:
            return {}
        if self.keys is None:
            raise InvalidInput("Sealing is off here: nothing can be erased.", "personId")
        if not self.keys_beside_events:
            return {}
        if not getattr(self.recorder, "destroys_keys", False):
            raise InvalidInput("This store cannot destroy data keys.", "personId")
        return {"destroy_keys": tuple(subjects)}

    def _after_erasure(self, subjects: list[str]) -> list[Person]:
        """The erased people as everyone now reads them (this process forgets their keys
        at once; other processes within the key ring's cache time)."""
        assert self.keys is not None
        for subject in subjects:
            if not self.keys_beside_events:
                # A key store of its own: destroyed once the erasure is recorded; if that
                # fails, the erased people's keys are destroyed by the next reconciliation
                # (infra.retention), so a recorded erasure always ends with its key gone.
                try:
                    self.keys.destroy(subject)
                except KeysUnavailable:
                    log.warning("an erased person's key is destroyed at the next reconciliation")
            self.keys.forget(subject)
        return [p for p in map(self.find_person, subjects) if p is not None]

    def _key_record(
        self, session: UnitOfWork, command: Command, outcome: Outcome
    ) -> IdempotencyRecord:
        assert command.idempotency_key is not None
        meta = session.meta("SYSTEM")
        if isinstance(outcome, SubscriptionChange):
            return IdempotencyRecord.record(
                command.idempotency_key,
                type(command).__name__,
                command.fingerprint(self._fingerprint_key),
                meta,
                subscription_id=outcome.subscription.id,
                subscription_version=outcome.subscription.version,
            )
        if isinstance(outcome, Agreement):
            return IdempotencyRecord.record(
                command.idempotency_key,
                type(command).__name__,
                command.fingerprint(self._fingerprint_key),
                meta,
                agreement_id=outcome.id,
                agreement_version=outcome.version,
            )
        return IdempotencyRecord.record(
            command.idempotency_key,
            type(command).__name__,
            command.fingerprint(self._fingerprint_key),
            meta,
            person_ids=[p.person_id for p in outcome],
        )

    def _prior_result(self, request: Request, command: Command) -> CommandResult | None:
        assert command.idempotency_key is not None
        record_id = IdempotencyRecord.id_for(request.actor.id, command.idempotency_key)
        try:
            record: IdempotencyRecord = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        # Keyed, so the record tells nothing about the input (it may be personal data);
        # records written before the key was used hold the plain digest.
        if record.fingerprint not in (
            command.fingerprint(self._fingerprint_key),
            command.fingerprint(),
        ):
            raise IdempotencyKeyReused(
                "This idempotency key was already used with different input.",
                "idempotencyKey",
            )
        # A replay shows what the first call showed, so the caller must still be allowed
        # to see it now (an employee may have moved to another manager meanwhile); its
        # position is the one the first call returned.
        actor = request.actor
        if record.agreement_id is not None and record.agreement_version is not None:
            aid, version = UUID(record.agreement_id), record.agreement_version
            agreement: Agreement = self.repository.get(aid, version=version)
            employee = agreement.employee_id
            if not can_read_agreement(actor, employee, self.manager_of(employee)):
                raise Forbidden(READ_AGREEMENT)
            position = self._positions(aid, version) or 0
            return CommandResult(position, agreement=agreement, replayed=True)
        if record.subscription_id is not None and record.subscription_version is not None:
            return self._prior_subscription(
                actor, UUID(record.subscription_id), record.subscription_version, record.command
            )
        require_directory_writer(actor)
        # The directory's last event is the one just before the key's record: one atomic
        # insert wrote both, and the positions of one insert are consecutive.
        position = max(0, (self._positions(record_id, 1) or 1) - 1)
        people = tuple(p for p in map(self.find_person, record.person_ids) if p is not None)
        return CommandResult(position, people=people, replayed=True)

    def _prior_subscription(
        self, actor: Actor, sid: UUID, version: int, command: str
    ) -> CommandResult:
        """A replayed subscription command: the subscription as the first call left it,
        and the secret it issued while that still signs (a caller that lost the answer
        to a creation retries with its key; without the secret it would have to rotate)."""
        sub: WebhookSubscription = self.repository.get(sid, version=version)
        if actor is not DELIVERY_WORKER and not can_manage_subscription(actor, sub.owner_id):
            raise Forbidden(MANAGE_WEBHOOKS)
        secret = None
        issuing = {c.CreateWebhookSubscription.__name__, c.RotateWebhookSecret.__name__}
        if self.webhooks is not None and command in issuing:
            # The subscription at the recorded version holds the generation it issued.
            secret = self.webhooks.secrets.reveal(sid, sub.secret_generation)
        queued = None
        if self.webhooks is not None and command == c.RedeliverWebhooks.__name__:
            # The range the first call asked for, as the worker has queued it.
            assert sub.last_redelivery is not None
            queued = self.webhooks.planned(sid, *sub.last_redelivery)
        position = self._positions(sid, version) or 0
        return CommandResult(
            position, subscription=sub, secret=secret, queued=queued, replayed=True
        )

    @staticmethod
    def _result(position: int, outcome: Outcome) -> CommandResult:
        if isinstance(outcome, Agreement):
            return CommandResult(position, agreement=outcome)
        if isinstance(outcome, SubscriptionChange):
            return CommandResult(
                position,
                subscription=outcome.subscription,
                secret=outcome.secret,
                queued=outcome.queued,
            )
        return CommandResult(position, people=tuple(outcome))

    # --- reads of the write model --------------------------------------------

    def find_agreement(self, actor: Actor, agreement_id: UUID) -> Agreement:
        """The agreement if the caller may read it; otherwise FORBIDDEN, whether or not
        it exists, so ids cannot be probed (HR and auditors get NOT_FOUND)."""
        agreement = self.load_agreement(agreement_id)
        if agreement is None:
            if sees_all(actor):
                raise NotFound("No agreement with this id.", "agreementId")
            raise Forbidden(READ_AGREEMENT)
        if not can_read_agreement(
            actor, agreement.employee_id, self.manager_of(agreement.employee_id)
        ):
            raise Forbidden(READ_AGREEMENT)
        return agreement

    def load_agreement(self, agreement_id: UUID) -> Agreement | None:
        """The agreement, or None when no agreement has this id (no access check)."""
        found = self._get(agreement_id, _agreement_title)
        return found if isinstance(found, Agreement) else None

    def load_agreement_with_employee(
        self, agreement_id: UUID
    ) -> tuple[Agreement | None, dict[str, Person | None]]:
        """The agreement (as `load_agreement`) and, when both are cached, its employee
        (as `find_person`), fast-forwarded by one read of the store: every command on an
        agreement looks its employee up (who manages them). The employee is known before
        the read because an agreement's employee never changes."""
        cached: Any = None
        if self.repository.cache is not None:
            with suppress(KeyError):  # not cached
                cached = self.repository.cache.get(agreement_id)
        if isinstance(cached, Agreement) and isinstance(self.repository, ReplayingRepository):
            employee = cached.employee_id
            found = self.repository.get_together([agreement_id, Person.id_for(employee)])
            if found is not None:
                agreement = self._unerased(agreement_id, found[0], _agreement_title)
                person = self._unerased(found[1].id, found[1], _display_name)
                return (
                    agreement if isinstance(agreement, Agreement) else None,
                    {employee: person if isinstance(person, Person) else None},
                )
        return self.load_agreement(agreement_id), {}

    def _get(self, aggregate_id: UUID, sealed: Callable[[Any], Any]) -> Any:
        """The aggregate, or None; one cached from before its subject was erased (its
        `sealed` value still opens in memory) is dropped and read again from the store."""
        try:
            found: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return self._unerased(aggregate_id, found, sealed)

    def _unerased(self, aggregate_id: UUID, found: Any, sealed: Callable[[Any], Any]) -> Any:
        """`found` as `_get` answers it (read again if its subject was erased)."""
        value = sealed(found)
        if (
            self.keys is not None
            and isinstance(value, Opened)
            and value != ERASED
            and self.keys.open(value.envelope) == ERASED
        ):
            if self.repository.cache is not None:
                with suppress(KeyError):  # another thread evicted it first
                    self.repository.cache.get(aggregate_id, evict=True)
            found = self.repository.get(aggregate_id)
        return found

    def agreement_at(
        self,
        actor: Actor,
        agreement_id: UUID,
        version: int | None = None,
        at: datetime | None = None,
    ) -> Agreement:
        """The agreement exactly as it was at a version or an instant, from its events."""
        first, latest = self._ends_of(agreement_id)
        if first is None or latest is None:
            self.find_agreement(actor, agreement_id)  # FORBIDDEN or NOT_FOUND, as for reads
            raise NotFound("No agreement with this id.", "agreementId")
        if not can_read_agreement(actor, first.employee_id, self.manager_of(first.employee_id)):
            raise Forbidden(READ_AGREEMENT)
        if at is not None:
            if at.tzinfo is None:
                raise InvalidInput("at must include a time zone.", "at")
            at_version = self._version_at(agreement_id, at, latest)
            if at_version is None:
                raise NotFound("The agreement did not exist yet at that instant.", "at")
            version = at_version if version is None else min(version, at_version)
        if version is None:
            version = latest
        if not 1 <= version <= latest:
            raise InvalidInput(f"version must be between 1 and {latest}.", "version")
        past: Agreement = self.repository.get(agreement_id, version=version)
        return past

    def _ends_of(self, agreement_id: UUID) -> tuple[Proposed | None, int | None]:
        """The agreement's first event and its latest version, reading two events (time
        travel needs the employee and the bounds, not today's whole state)."""
        first = next(iter(self.events.get(agreement_id, lte=1)), None)
        if not isinstance(first, Proposed):
            return None, None
        last = self.recorder.select_events(agreement_id, desc=True, limit=1)
        return first, last[0].originator_version

    def events_in_clear(self, person_id: str, agreement_ids: list[UUID]) -> int:
        """How many events of the person (their directory entry, their agreements) hold
        personal text in clear: recorded before sealing, so erasure only masks them."""
        streams = [Person.id_for(person_id), *agreement_ids]
        return sum(
            1
            for stream in streams
            for event in self.events.get(stream)
            if holds_clear_text(vars(event), getattr(type(event), "NOT_PERSONAL", frozenset()))
        )

    def history(self, agreement_id: UUID) -> list[Any]:
        """Every event of the agreement, oldest first."""
        return list(self.events.get(agreement_id))

    def load_subscription(self, subscription_id: UUID) -> WebhookSubscription | None:
        """The webhook subscription, or None (no access check)."""
        try:
            found: Any = self.repository.get(subscription_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, WebhookSubscription) else None

    def find_person(self, person_id: str) -> Person | None:
        """A person of the directory, active or not."""
        found = self._get(Person.id_for(person_id), _display_name)
        return found if isinstance(found, Person) else None

    def manager_of(self, employee_id: str) -> str | None:
        """The employee's current manager in the directory."""
        person = self.find_person(employee_id)
        return None if person is None else person.profile.manager_id

    def find_ledger(self, person_id: str) -> HoursLedger | None:
        """The person's hours ledger, or None if nothing was ever booked."""
        try:
            ledger: HoursLedger = self.repository.get(HoursLedger.id_for(person_id))
        except AggregateNotFoundError:
            return None
        return ledger

    def find_together(
        self, person_ids: Sequence[str], ledger_owners: Sequence[str]
    ) -> tuple[dict[str, Person | None], dict[str, HoursLedger]] | None:
        """These people (as `find_person`) and these people's ledgers (as
        `find_ledger`), fast-forwarded by one read of the store, when every one is
        cached (`ReplayingRepository.get_together`); else None, and nothing read."""
        if not isinstance(self.repository, ReplayingRepository):
            return None
        people_ids = [Person.id_for(p) for p in person_ids]
        ledger_ids = [HoursLedger.id_for(o) for o in ledger_owners]
        found = self.repository.get_together(people_ids + ledger_ids)
        if found is None:
            return None
        people: dict[str, Person | None] = {}
        for pid, aggregate_id, aggregate in zip(
            person_ids, people_ids, found[: len(people_ids)], strict=True
        ):
            person = self._unerased(aggregate_id, aggregate, _display_name)
            people[pid] = person if isinstance(person, Person) else None
        ledgers = found[len(people_ids) :]
        if not all(isinstance(ledger, HoursLedger) for ledger in ledgers):
            return None
        return people, dict(zip(ledger_owners, ledgers, strict=True))

    def find_dossier_register(self, agreement_id: UUID) -> DossierRegister | None:
        """The register of the agreement's dossiers, or None before the first."""
        try:
            register: DossierRegister = self.repository.get(DossierRegister.id_for(agreement_id))
        except AggregateNotFoundError:
            return None
        return register

    def log_head(self) -> int:
        """The position of the log's last event (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def find_deactivation_guard(self) -> DeactivationGuard | None:
        """The directory's deactivation guard, or None if never opened."""
        try:
            guard: DeactivationGuard = self.repository.get(GUARD_ID)
        except AggregateNotFoundError:
            return None
        return guard

    def held_deactivations(self) -> list[tuple[str, datetime]]:
        """The held deactivation wave for HR to decide on: person ids, when held."""
        guard = self.find_deactivation_guard()
        if guard is None:
            return []
        return sorted(guard.held.items(), key=lambda item: (item[1], item[0]))

    def _version_at(self, agreement_id: UUID, at: datetime, latest: int) -> int | None:
        """The last version recorded at or before `at`: a search over the stream (a
        stream's timestamps only grow: each event is made after its predecessor was
        loaded), in one transaction, reading of each probed event only its timestamp
        (`recorded_at`), not the whole event. A store read probes `fan` versions at once,
        evenly spaced (1: a binary search, ~log2(versions) reads; PostgreSQL reads 15
        per round trip, ~log16(versions) round trips)."""
        low, high, found = 1, latest, None
        fan = self._stored_states_fan
        with self._stored_states(agreement_id) as states_of:
            while low <= high:
                span = high - low
                probes = sorted({low + span * (i + 1) // (fan + 1) for i in range(fan)})
                states = states_of(probes)
                above = None
                for version in probes:
                    if self._recorded_at(agreement_id, version, states[version]) <= at:
                        found = version
                    else:
                        above = version
                        break
                low = low if found is None or found < low else found + 1
                high = high if above is None else above - 1
        return found

    def _recorded_at(self, agreement_id: UUID, version: int, state: bytes) -> datetime:
        recorded = self.recorded_at(state)
        if recorded is None:  # not as we store events: read as events are read
            (event,) = self.events.get(agreement_id, gt=version - 1, lte=version)
            recorded = cast(AgreementEvent, event).timestamp
        return recorded

    def recorded_at(self, state: bytes) -> datetime | None:
        """A stored event's timestamp, as decoding the whole event gives it, read from
        its stored state (decrypted and decompressed first when the store does that)
        without making the event: no transcodings, no sealed values opened, no upcasting
        (which never touches the timestamp). None for a state of another shape."""
        mapper = self.mapper
        if mapper.cipher is not None:
            state = mapper.cipher.decrypt(state)
        if mapper.compressor is not None:
            state = mapper.compressor.decompress(state)
        if state.startswith(_TIMESTAMP_FIRST):  # how every event is stored
            start = len(_TIMESTAMP_FIRST)
            return datetime.fromisoformat(state[start : state.index(b'"', start)].decode())
        timestamp = orjson.loads(state).get("timestamp")
        if isinstance(timestamp, dict) and timestamp.get("_type_") == "datetime_iso":
            return datetime.fromisoformat(timestamp["_data_"])
        return None

    @contextmanager
    def _read_states(self, agreement_id: UUID) -> Iterator[StatesOf]:
        # Fallback for stores without a direct read (the in-memory one in tests).
        def states_of(versions: list[int]) -> dict[int, bytes]:
            return {
                v: stored.state
                for v in versions
                for stored in self.recorder.select_events(agreement_id, gt=v - 1, lte=v)
            }

        yield states_of

    def _scan_for_position(self, originator_id: UUID, version: int) -> int | None:
        # Fallback for stores without an index lookup (the in-memory one in tests).
        start = 1
        while batch := self.recorder.select_notifications(start, 500):
            for n in batch:
                if n.originator_id == originator_id and n.originator_version == version:
                    return n.id
            start = batch[-1].id + 1
        return None
