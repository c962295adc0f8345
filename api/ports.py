"""What the API may use of the service: narrow ports instead of the whole container.
Commands go to the application, reads to the read models, integrity checks to the
audit store, single-use web tokens to their table; `Ports.of` wires them from the
container (infra.bootstrap)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import IO, Any, Protocol, TypeVar, cast
from uuid import UUID

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError

from domain.access import Actor
from domain.agreement import Agreement
from domain.application import CommandResult, Request
from domain.application.commands import Command
from domain.application.subscriptions import WebhookSubscriptions
from domain.sealing import opened_in
from domain.values import Role
from infra import alarms, audit
from infra.alarms import Alarm
from infra.bootstrap import Container
from infra.dossier.issue import Dossier as Dossier
from infra.dossier.issue import Issuer, issuer_of
from infra.dossier.issue import PersonDossier as PersonDossier
from infra.kept_insights import KeptInsights, Token, token_of
from infra.keystore import KEY_CACHE_SECONDS, KeyRing
from infra.notifications import preferences, signin_mail
from infra.notifications.feed import FeedItem, unread_query
from infra.notifications.kinds import KIND_LABELS as KIND_LABELS
from infra.notifications.kinds import Kind as Kind
from infra.notifications.kinds import Mode as Mode
from infra.notifications.preferences import Choices as Choices
from infra.notifications.preferences import InvalidPreference as InvalidPreference
from infra.notifications.preferences import time_zone_query
from infra.notifications.preferences import time_zones as time_zones
from infra.notifications.preferences import valid_time_zone as valid_time_zone
from infra.notifications.service import Notifications
from infra.notifications.unsubscribe import read_token
from infra.read_routing import ReadRouter, connected
from infra.secrets import jwt_secret
from infra.signing import events_key, trusted_public_keys
from infra.used_tokens import UsedTokens, used_query
from infra.webhooks import queries as webhook_queries
from projections import queries as q
from projections import workload
from projections.insights.figures import Insights
from projections.insights.precomputed import read_precomputed
from projections.insights.views import for_teams
from projections.name_index import NameIndex, index_key
from projections.tables import ReadModel, read_model

T = TypeVar("T")
P = TypeVar("P")
Row = dict[str, Any]


class Commands(Protocol):
    """The write side: commands, and the write model's agreement at a past point."""

    def execute(self, request: Request, command: Command) -> CommandResult:
        """Run a command atomically (the application's rules and access checks)."""
        ...

    def agreement_at(
        self,
        actor: Actor,
        agreement_id: UUID,
        version: int | None = None,
        at: datetime | None = None,
    ) -> Agreement:
        """The agreement as it was at a version or instant, if the caller may read it."""
        ...

    def events_in_clear(self, person_id: str, agreement_ids: list[UUID]) -> int:
        """How many of the person's events hold personal text recorded before sealing."""
        ...

    def held_deactivations(self) -> list[tuple[str, datetime]]:
        """The held deactivation wave for HR to decide on: person ids, when held."""
        ...

    def log_head(self) -> int:
        """The position of the log's last event (0 when empty)."""
        ...


@dataclass(frozen=True)
class Notices:
    """E-mail notifications as people see and steer them (blocking: call from a thread)."""

    service: Notifications

    def feed(self, person_id: str) -> list[FeedItem]:
        """The person's latest notifications, newest first."""
        return self.service.feed(person_id)

    def unread(self, person_id: str) -> int:
        """How many the person has not seen on the Notifications page."""
        return self.service.unread(person_id)

    def mark_read(self, person_id: str) -> None:
        """The person has seen their notifications."""
        self.service.mark_read(person_id)

    def time_zone(self, person_id: str) -> str | None:
        """The time zone the person chose (None: none yet)."""
        return preferences.saved_time_zone(self.service.engine, person_id)

    def choices(self, person_id: str) -> preferences.Choices:
        """The person's notification settings."""
        return preferences.choices_of(self.service.engine, person_id)

    def save(self, person_id: str, choices: preferences.Choices) -> None:
        """Store the person's settings (InvalidPreference: not a possible choice)."""
        preferences.save_choices(self.service.engine, person_id, choices)

    def mail_sign_in_link(self, person_id: str, link_for: Callable[[list[Role]], str]) -> bool:
        """E-mail the person a sign-in link (made by `link_for` with their roles: an
        employee, and a manager when someone reports to them); False for someone
        unknown, inactive or erased, or when the mail server refused it."""
        card = signin_mail.card_of(self.service, person_id)
        if card is None or not card.reachable:
            return False
        roles = [Role.EMPLOYEE]
        if signin_mail.manages_anyone(self.service, person_id):
            roles.append(Role.MANAGER)
        return signin_mail.send_signin_link(self.service, card, link_for(roles))

    def unsubscribe(self, token: str, *, apply: bool) -> tuple[str, Kind] | None:
        """Whose and which kind a link stops (None: not a valid link); with `apply`,
        it stops."""
        found = read_token(self.service.dispatcher.letterhead.link_key, token)
        if found is not None and apply:
            preferences.turn_off(self.service.engine, *found)
        return found


@dataclass(frozen=True)
class Reads:
    """The read models, on the reader engine (the primary's), or on a streaming replica
    in rotation when the router has one (infra.read_routing)."""

    engine: Engine  # the primary's reader: consistency waits read positions here
    receiving_limit_per_week: float
    compiled: bool  # queries compiled to one SQL statement (PostgreSQL, setting on)
    keys: KeyRing  # the read models hold personal data sealed; it is opened here
    insights_min_group: int = 5  # CRAFTING_INSIGHTS_MIN_GROUP (docs/insights.md)
    router: ReadRouter | None = None
    names: NameIndex | None = None  # hashes what a filter's name says (name_tokens)
    # The released insight tables between requests (one per process: see `insights`).
    kept_insights: KeptInsights = field(
        default_factory=lambda: KeptInsights(KEY_CACHE_SECONDS), compare=False
    )

    def name_tokens(self, typed: str) -> tuple[str, ...]:
        """The hashed words of a name typed in a filter (none without an index)."""
        return () if self.names is None else tuple(self.names.query(typed))

    def run(self, query: Callable[[Connection, ReadModel], T]) -> T:
        """Run a read query on the live tables in one transaction (so the generation
        cannot switch under it), its sealed texts opened ("[erased]" once their key is
        gone); blocking, call it from a worker thread."""
        if self.router is not None:
            return self.router.run(partial(self._opened, query))
        with self.engine.begin() as conn:
            return self._opened(query, conn)

    def run_alone(self, statement: Callable[[Connection], T]) -> T:
        """`statement`, one statement that finds the live generation itself (so it is
        its own snapshot: the generation cannot switch under it), run without a
        transaction on a replica in rotation or the primary as `run` picks them; its
        sealed texts opened as `run` opens them. Blocking."""
        if self.router is not None:
            return self.router.run(partial(self._opened_alone, statement), alone=True)
        with connected(self.engine, alone=True) as conn:
            return self._opened_alone(statement, conn)

    def _opened_alone(self, statement: Callable[[Connection], T], conn: Connection) -> T:
        with self.keys.reading_on(conn):
            opened: T = opened_in(statement(conn), self.keys)
        return opened

    def run_beside(
        self,
        primary: Callable[[Connection], P],
        query: Callable[[Connection, ReadModel], T],
        generation: Callable[[], int | None] = lambda: None,
    ) -> tuple[P, T]:
        """`primary` in a transaction on the primary, then `query` as `run` would run it.
        While no replica is in rotation (always, without replicas) both share that one
        transaction: one pool checkout, one BEGIN and COMMIT, instead of two of each;
        and when `primary` read the live generation in its own statement
        (`q.live_generation`), `generation` gives it after `primary` ran: the query's
        tables without a statement of their own."""
        if self.router is not None and self.router.serving():
            with self.engine.begin() as conn:
                first = primary(conn)
            return first, self.run(query)
        with self.engine.begin() as conn:
            first = primary(conn)
            return first, self._opened(query, conn, generation())

    def _opened(
        self,
        query: Callable[[Connection, ReadModel], T],
        conn: Connection,
        generation: int | None = None,
    ) -> T:
        with self.keys.reading_on(conn):
            rm = q.live_read_model(conn) if generation is None else read_model(generation)
            found = query(conn, rm)
            opened: T = opened_in(found, self.keys)
        return opened

    def insights(
        self, person_id: str, reach: str, now: datetime, at_least: int | None = None
    ) -> Insights:
        """The released insight tables (docs/insights.md): all of them for `reach`
        "all", a manager's teams' rows otherwise; at least as new as the read models at
        position `at_least` (`consistentWith`). Blocking."""
        minimum = self.insights_min_group
        with self.engine.begin() as conn:
            rm = q.live_read_model(conn)
            token = token_of(conn, rm, minimum, now)
            # A manager's teams, whatever else they may read (an INTEGRATION role too).
            scope = q.ReadScope(person_id, sees_all=False, is_manager=True)
            teams = [] if reach == "all" else workload.visible_teams(conn, rm, scope)
        # Kept until the read models change, refreshed behind the requests
        # (infra.kept_insights).
        released = self.kept_insights.get(
            token, now, partial(self._insights_now, minimum, now), at_least
        )
        return released if reach == "all" else for_teams(released, teams)

    def _insights_now(self, minimum: int, now: datetime) -> tuple[Token, Insights]:
        """Every table from what the projector keeps (projections.insights.precomputed):
        the same figures as from the whole log, without reading it; with the token they
        were computed under, read in the same transaction."""
        with self.engine.begin() as conn, self.keys.reading_on(conn):
            rm = q.live_read_model(conn)
            token = token_of(conn, rm, minimum, now)
            opener = partial(opened_in, keys=self.keys)
            closed = self.kept_insights.closed_months
            return token, read_precomputed(conn, rm, minimum, now, opener, closed)


@dataclass(frozen=True)
class Audit:
    """Integrity checks over the stored events and the checkpoints."""

    store: audit.Store
    # Read when asked: an operator may add a key file or trusted keys while serving.
    trusted_public_keys: Callable[[], frozenset[str]]
    keys: KeyRing | None = None  # opens sealed texts in exports
    events_key: bytes | None = None  # checks the service's tags on events not yet sealed
    reader: Engine | None = None  # reads without the write lock (SQLite)

    def export_agreement(self, agreement_id: UUID, out: IO[str]) -> int:
        """One agreement's events and the checkpoints, as `crafting export --agreement`
        writes them (the standalone verifier's input); blocking."""
        return audit.export(self.store, out, stream=agreement_id, keys=self.keys)

    def open_alarms(self) -> list[Alarm]:
        """The alarms open now, raised by any process (blocking); none when the
        database cannot say (the badge must still answer)."""
        try:
            with (self.reader or self.store.engine).connect() as conn:
                return alarms.open_alarms(conn)
        except DBAPIError:
            return []

    def check_agreement(self, agreement_id: UUID) -> audit.AgreementIntegrity:
        """One agreement's chain, its events proven part of the latest signed checkpoint
        and the newer ones' tags (blocking)."""
        return audit.check_agreement(
            self.store, agreement_id, self.trusted_public_keys(), self.events_key, self.reader
        )


@dataclass(frozen=True)
class Dossiers:
    """Promotion dossiers, issued to the agreement's employee, their manager or HR; each
    issue recorded in the audit log (blocking: call from a worker thread)."""

    issuer: Issuer

    def may_receive(self, actor: Actor, agreement_id: UUID) -> None:
        """Nothing if the actor may be issued the agreement's dossier; else Forbidden
        (NotFound for HR, who may act on any agreement)."""
        self.issuer.may_receive(actor, agreement_id)

    def issue(self, request: Request, agreement_id: UUID) -> Dossier:
        """Issue the dossier to the caller (Forbidden, NotFound, NotYetCheckpointed)."""
        return self.issuer.issue(request, agreement_id)

    def may_receive_person(self, actor: Actor, person_id: str) -> int:
        """How many of the person's agreements the actor may be issued a dossier of (at
        least one); else Forbidden (NotFound for HR)."""
        return len(self.issuer.person_agreements(actor, person_id))

    def issue_person(self, request: Request, person_id: str) -> PersonDossier:
        """Issue the dossier of all the person's agreements the caller may see."""
        return self.issuer.issue_person(request, person_id)


@dataclass(frozen=True)
class ProvisioningPolicy:
    """How identity providers provision the directory (SCIM)."""

    default_contracted_hours: float
    deactivation_share: float
    deactivation_window: timedelta
    deactivation_min_people: int


class SingleUse(Protocol):
    """Ids of sign-in links used and sessions signed out (the web app)."""

    def use(self, token_id: str, expires_at: datetime) -> bool:
        """Mark the id used; True only for its first use, also under concurrency."""
        ...

    def used(self, token_id: str) -> bool:
        """Whether the id was used."""
        ...


@dataclass(frozen=True)
class SessionFacts:
    """What the primary says of a web session and its person."""

    unread: int  # notifications not seen yet
    time_zone: str | None  # the zone they chose (None: none)


@dataclass(frozen=True)
class Sessions:
    """What every signed-in page reads before it renders, in as few transactions as the
    routing allows. Whether the session was signed out, and the person's notifications
    and time zone, are read on the primary, never on a replica: a sign-out must count at
    once, and what the person just read or chose must show on the next page. The page
    header's read-model query is routed as every read is (`Reads.run_beside`)."""

    reads: Reads

    def check(
        self, session_id: str, person_id: str, header: Callable[[Connection, ReadModel], T]
    ) -> tuple[SessionFacts, T] | None:
        """The session's facts and `header`'s answer; None when it was signed out (then
        `header` is not run). Blocking: call it from a worker thread."""
        signed_out = False
        live: int | None = None

        def facts(conn: Connection) -> SessionFacts | None:
            # One statement, one round trip: a signed-out session is rare, and its
            # notifications and zone, read beside, are then not used. The live
            # generation rides along: the header's tables when it shares this
            # transaction (`Reads.run_beside`), without a statement of their own.
            nonlocal signed_out, live
            signed_out, unread, zone, live = conn.execute(
                select(
                    used_query(session_id).exists(),
                    unread_query(person_id).scalar_subquery(),
                    time_zone_query(person_id).scalar_subquery(),
                    q.live_generation().scalar_subquery(),
                )
            ).one()
            if signed_out:
                return None
            return SessionFacts(int(unread), None if zone is None else str(zone))

        def unless_signed_out(conn: Connection, rm: ReadModel) -> T | None:
            return None if signed_out else header(conn, rm)

        found, answer = self.reads.run_beside(facts, unless_signed_out, lambda: live)
        if found is None:
            return None
        return found, cast(T, answer)


@dataclass(frozen=True)
class Webhooks:
    """Webhook subscriptions (commands, with their access checks) and the delivery
    worker's tables (reads); blocking, call from a worker thread."""

    subscriptions: WebhookSubscriptions
    reader: Engine

    def subscription_rows(self, owner_id: str | None, first: int, after: int) -> list[Row]:
        """Subscriptions not deleted, oldest first (an integration's own only)."""
        return webhook_queries.subscription_rows(self.reader, owner_id, first, after)

    def delivery_rows(self, subscription_id: UUID, first: int, before: int | None) -> list[Row]:
        """A subscription's delivery log, newest first."""
        return webhook_queries.delivery_rows(self.reader, str(subscription_id), first, before)


@dataclass(frozen=True)
class Ports:
    commands: Commands
    reads: Reads
    audit: Audit
    provisioning: ProvisioningPolicy
    webhooks: Webhooks
    single_use: SingleUse
    notices: Notices
    dossiers: Dossiers
    sessions: Sessions

    @classmethod
    def of(cls, container: Container) -> Ports:
        """The ports of a bootstrapped service."""
        settings, reader = container.settings, container.engines.reader
        reads = Reads(
            reader,
            settings.limits.max_hours_received_per_week,
            compiled=settings.projections.compiled_reads and reader.dialect.name == "postgresql",
            keys=container.keys,
            insights_min_group=settings.limits.insights_min_group,
            router=container.read_router,
            names=NameIndex(index_key(container.keys.store.master_key), container.keys.open),
            kept_insights=KeptInsights(container.keys.cache_seconds),
        )
        return cls(
            commands=container.app,
            reads=reads,
            audit=Audit(
                container.store,
                partial(trusted_public_keys, settings),
                container.keys,
                events_key(settings),
                reader,
            ),
            provisioning=ProvisioningPolicy(
                default_contracted_hours=settings.scim.default_contracted_hours,
                deactivation_share=settings.scim.deactivation_share,
                deactivation_window=timedelta(seconds=settings.scim.deactivation_window_seconds),
                deactivation_min_people=settings.scim.deactivation_min_people,
            ),
            webhooks=Webhooks(
                container.subscriptions,
                reader,
            ),
            single_use=UsedTokens(container.engines.writer),
            notices=Notices(container.notifications(jwt_secret(settings, create=True))),
            dossiers=Dossiers(issuer_of(container)),
            sessions=Sessions(reads),
        )
