"""Commands: what a caller asks for, as given (the handlers validate every field), who
asks (`Request`), and what a command returns (`CommandResult`)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from uuid import UUID

from domain.access import Actor
from domain.agreement import Agreement
from domain.directory_guard import GuardPolicy
from domain.person import Person, Profile, Provisioning
from domain.sketch import Sketch
from domain.values import AdjustmentDraft, CareerGoal, Guardrails
from domain.webhooks import WebhookSubscription


@dataclass(frozen=True)
class Request:
    """Who asks, under which request id."""

    actor: Actor
    correlation_id: str


@dataclass(frozen=True)
class CommandResult:
    """A command's outcome: the log position of the last event of what it acted on (the
    agreement, the subscription; for the directory its last event), and what it
    changed."""

    position: int
    agreement: Agreement | None = None
    people: tuple[Person, ...] = ()
    replayed: bool = False  # the outcome of an earlier call with the same key
    dry_run: bool = False  # judged, nothing recorded: `agreement` is what it would be
    would_revert: tuple[str, ...] = ()  # a dry run's changes it would revert, in order
    subscription: WebhookSubscription | None = None  # a webhook subscription command's
    secret: str | None = None  # a subscription's new signing secret (create, rotate)
    queued: int | None = None  # messages queued again (a redelivery)
    # The command's last event (hours-ledger bookings follow the agreement's event);
    # None when not known (a replay, a dry run): then `position`.
    last_position: int | None = None


@dataclass(frozen=True, kw_only=True)
class Command:
    expected_version: int | None = None
    idempotency_key: str | None = None
    reason: str | None = None

    def fingerprint(self, key: bytes | None = None) -> str:
        """Same command and input = same fingerprint; the idempotency key itself is left
        out. With `key`, an HMAC: the input may be personal data, and a plain digest of a
        short text can be found by guessing."""
        body = asdict(self)
        body.pop("idempotency_key")
        canonical = json.dumps([type(self).__name__, body], sort_keys=True, default=str)
        if key is not None:
            return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class AgreementCommand(Command):
    agreement_id: UUID


@dataclass(frozen=True, kw_only=True)
class IssueDossier(AgreementCommand):
    """Record that a promotion dossier of the agreement was issued to the caller: what
    it shows (its last event's version and hash, the covering checkpoint) and the
    digest of the facts it prints."""

    agreement_version: int
    last_event_hash: str
    checkpoint_position: int
    facts_digest: str


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """What a proposal holds (proposing and revising)."""

    title: str
    career_goal: CareerGoal
    adjustments: list[AdjustmentDraft] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ProposeAgreement(Proposal, Command):
    employee_id: str | None = None  # default: the caller


@dataclass(frozen=True, kw_only=True)
class ReviseProposal(Proposal, AgreementCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class RequestChanges(AgreementCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class ApproveAgreement(AgreementCommand):
    guardrails: Guardrails


@dataclass(frozen=True, kw_only=True)
class RejectAgreement(AgreementCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class SetGuardrails(AgreementCommand):
    guardrails: Guardrails


@dataclass(frozen=True, kw_only=True)
class AddAdjustment(AgreementCommand):
    adjustment: AdjustmentDraft


@dataclass(frozen=True, kw_only=True)
class ReallocateTask(AgreementCommand):
    task: str
    hours_per_week: float
    to_person_id: str
    from_person_id: str | None = None  # default: the agreement's employee
    effective_on: date | None = None  # default: today


@dataclass(frozen=True, kw_only=True)
class RecordReview(AgreementCommand):
    outcome: str
    held_on: date | None = None  # default: today
    notes: str | None = None
    next_review_on: date | None = None  # default: heldOn + reviewEveryDays


@dataclass(frozen=True, kw_only=True)
class RecordArtifact(AgreementCommand):
    title: str
    kind: str
    url: str | None = None
    skills: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class SetSketch(AgreementCommand):
    """Put a sketch in place of the agreement's (the whole sketch: blocks before and
    after, relationships, purpose)."""

    sketch: Sketch


@dataclass(frozen=True, kw_only=True)
class RevertChange(AgreementCommand):
    change_id: str


@dataclass(frozen=True, kw_only=True)
class RevertToVersion(AgreementCommand):
    version: int
    dry_run: bool = False  # judge it and tell what it would revert; record nothing


@dataclass(frozen=True, kw_only=True)
class PauseAgreement(AgreementCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class ResumeAgreement(AgreementCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class CompleteAgreement(AgreementCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class WithdrawAgreement(AgreementCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class RecordOutcome(AgreementCommand):
    """What an ended agreement led to (domain.agreement.outcomes)."""

    kind: str
    achieved_on: date | None = None  # default: today


@dataclass(frozen=True, kw_only=True)
class RevertOutcome(AgreementCommand):
    pass


@dataclass(frozen=True)
class DirectoryEntry:
    id: str
    profile: Profile
    provisioning: Provisioning | None = None  # None: left as it is (upsertPeople)


@dataclass(frozen=True, kw_only=True)
class UpsertPeople(Command):
    """Push people into the directory. `expected_version` (one person only) is the
    person's version the caller last read: SCIM's ETags."""

    people: list[DirectoryEntry]
    # Identity providers send people in any order: a manager not yet in the directory
    # is recorded as given, and the reference resolves when the manager arrives.
    managers_may_follow: bool = False
    # Deactivations past the policy's share are held for HR (domain.directory_guard).
    guard: GuardPolicy | None = None


@dataclass(frozen=True, kw_only=True)
class WaveDecision(Command):
    """HR's decision on the held deactivation wave. `people`, when given, are the held
    people HR was shown: the decision is refused if the wave is no longer exactly them
    (the identity provider can add to it at any moment), so HR never decides on someone
    they have not seen."""

    people: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ConfirmDeactivations(WaveDecision):
    """HR applies the held deactivation wave."""


@dataclass(frozen=True, kw_only=True)
class DismissDeactivations(WaveDecision):
    """HR drops the held deactivation wave: its people stay active."""


@dataclass(frozen=True, kw_only=True)
class PersonCommand(Command):
    person_id: str


@dataclass(frozen=True, kw_only=True)
class ErasePerson(PersonCommand):
    """Erase a person's data: their key is destroyed with the event that records it."""


@dataclass(frozen=True, kw_only=True)
class PlaceLegalHold(PersonCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class LiftLegalHold(PersonCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class CreateWebhookSubscription(Command):
    """Subscribe a URL to event types (optionally one team's); its secret is issued."""

    url: str
    event_types: list[str]
    team_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class SubscriptionCommand(Command):
    """A command on one webhook subscription; `expected_version` is the subscription's."""

    subscription_id: UUID


@dataclass(frozen=True, kw_only=True)
class PauseWebhookSubscription(SubscriptionCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class ResumeWebhookSubscription(SubscriptionCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class DeleteWebhookSubscription(SubscriptionCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class RotateWebhookSecret(SubscriptionCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class RedeliverWebhooks(SubscriptionCommand):
    """Send the subscription's messages between two log positions (both included) again."""

    from_position: int
    to_position: int


@dataclass(frozen=True, kw_only=True)
class DisableWebhookSubscription(SubscriptionCommand):
    """The delivery worker's: deliveries failed for too long (`reason` says how)."""
