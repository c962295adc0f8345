"""The crafting agreement aggregate: its lifecycle, content and the rules on them.

Commands check every rule first and only then trigger events, so a broken rule
raises a DomainError with nothing pending. Who may act (rule 1) is decided by
`domain.access` before a command is called; this module guards the state. One class
(hence its length): the aggregate's commands, each with its rules; the state changes and
checks they share are in `state`, reverts in `reversal`.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast
from uuid import uuid4

from eventsourcing.domain import Snapshot as BaseSnapshot

from domain.agreement import events as ev
from domain.agreement import lifecycle, reversal, state
from domain.agreement import outcomes as oc
from domain.agreement.lifecycle import Action
from domain.agreement.snapshot import pack_state, unpack_state
from domain.agreement.topics import keep_stored_topics
from domain.errors import (
    ChangeNotRevertible,
    InvalidInput,
    InvalidTransition,
    LimitReached,
    NotFound,
    NothingToRevert,
    ProtectedResponsibility,
)
from domain.metadata import ChainedAggregate, Meta
from domain.packing import RecordLog, RecordTable
from domain.records import (
    Adjustment,
    Artifact,
    Change,
    ChangeKind,
    Reallocation,
    Review,
)
from domain.sketch import Sketch, check_sketch
from domain.values import (
    AdjustmentDraft,
    AgreementStatus,
    ArtifactKind,
    CareerGoal,
    Guardrails,
    ReviewOutcome,
    reason,
)

S = AgreementStatus
MAX_ADJUSTMENTS_PER_PROPOSAL = 50
# How many of each child one agreement may hold over its life (reverted ones count:
# they stay in the record). Generous for a plan reviewed every two weeks for years,
# and they bound what one agreement costs to store, load and return.
CHILD_LIMITS = {"adjustments": 100, "reallocations": 100, "reviews": 200, "artifacts": 200}


def _new_id() -> str:
    return str(uuid4())


@dataclass(frozen=True)
class ReallocationToggle:
    """A reallocation that a command switched on or off: the hours ledgers of the
    two people involved must follow in the same save."""

    reallocation: Reallocation
    active: bool


# Per type of value an agreement holds: whether `Agreement.__deepcopy__` copies it (a
# container) or shares it (an immutable value). An isinstance against the union asked
# every value in turn, RecordTable's ABC check among them (~0.4 µs a value, ~25 a copy).
_COPIED: dict[type, bool] = {}


class Agreement(ChainedAggregate):
    SUBJECT_FIELD = "employee_id"  # its free texts are sealed under the employee's key
    # Its outcomes, oldest first (domain.agreement.outcomes). A class default: agreements
    # loaded from snapshots taken before outcomes existed have none.
    outcomes: tuple[oc.OutcomeEntry, ...] = ()

    class Snapshot(BaseSnapshot):
        """The agreement's state every 100 events (`snapshot.snapshot_step`), so loading
        it, and time travel, replay at most that many events."""

        @classmethod
        def take(cls, aggregate: Any) -> Agreement.Snapshot:
            aggregate.resolve_chain_head()  # stored as a hash, not as the last event
            snapshot = super().take(aggregate)
            pack_state(snapshot.state)
            return snapshot

        def mutate(self, _: None) -> Agreement:
            agreement = cast(Agreement, super().mutate(None))
            unpack_state(agreement.__dict__)
            return agreement

    def __init__(
        self,
        employee_id: str,
        title: str,
        career_goal: CareerGoal,
        adjustments: tuple[Adjustment, ...],
    ) -> None:
        self.employee_id = employee_id
        self.title = title
        self.career_goal = career_goal
        self.status = S.PROPOSED
        self.manager_id: str | None = None
        self.approved_version: int | None = None
        self.guardrails: Guardrails | None = None
        self.next_review_on: date | None = None
        self.sketch: Sketch | None = None
        # Dicts, or RecordTables when loaded from a snapshot (domain.packing).
        self.adjustments: MutableMapping[str, Adjustment] = {}
        self.reallocations: MutableMapping[str, Reallocation] = {}
        self.reviews: RecordLog[Review] = RecordLog(Review)
        self.artifacts: RecordLog[Artifact] = RecordLog(Artifact)
        self.changes: MutableMapping[str, Change] = {}
        # The adjustments in effect, counted as they change (state.development_hours).
        self.active_adjustments = 0
        self.active_hours = 0.0
        for adjustment in adjustments:
            state.add_adjustment(self, adjustment, self.INITIAL_VERSION)

    def __deepcopy__(self, memo: dict[int, object]) -> Agreement:
        """The library copies cached aggregates before each command. The records are
        immutable, so copying the containers is enough (pointer copies in C, not a walk
        of every record in Python: that walk was half of a
        command's cost on an agreement of 10,000 events)."""
        copy = object.__new__(type(self))
        copied = _COPIED
        state = {}
        for k, v in self.__dict__.items():
            kind = type(v)
            copies = copied.get(kind)
            if copies is None:  # first seen: asked once a type (RecordTable is an ABC's)
                copies = copied[kind] = issubclass(kind, dict | list | RecordLog | RecordTable)
            state[k] = v.copy() if copies else v
        copy.__dict__.update(state)
        return copy

    # --- commands -------------------------------------------------------------

    @classmethod
    def propose(
        cls,
        employee_id: str,
        title: str,
        career_goal: CareerGoal,
        drafts: list[AdjustmentDraft],
        meta: Meta,
    ) -> Agreement:
        """Start an agreement in PROPOSED."""
        created: Agreement = cls._create(
            ev.Proposed,
            id=uuid4(),
            employee_id=employee_id,
            title=title,
            career_goal=career_goal,
            adjustments=_adjustments_from(drafts),
            **meta.event_fields(),
        )
        return created

    def revise(
        self, title: str, career_goal: CareerGoal, drafts: list[AdjustmentDraft], meta: Meta
    ) -> None:
        self._require(Action.REVISE)
        self.trigger_event(
            ev.ProposalRevised,
            title=title,
            career_goal=career_goal,
            adjustments=_adjustments_from(drafts),
            **meta.event_fields(),
        )

    def request_changes(self, meta: Meta) -> None:
        reason(meta.reason)
        self._require(Action.REQUEST_CHANGES)
        self.trigger_event(ev.ChangesRequested, **meta.event_fields())

    def approve(
        self, manager_id: str | None, guardrails: Guardrails, today: date, meta: Meta
    ) -> None:
        self._require(Action.APPROVE)
        state.check_hours_within(guardrails, self.development_hours())
        self.trigger_event(
            ev.Approved,
            manager_id=manager_id,
            guardrails=guardrails,
            guardrails_change_id=_new_id(),
            next_review_on=today + timedelta(days=guardrails.review_every_days),
            **meta.event_fields(),
        )

    def reject(self, meta: Meta) -> None:
        reason(meta.reason)
        self._require(Action.REJECT)
        self.trigger_event(ev.Rejected, **meta.event_fields())

    def set_guardrails(self, guardrails: Guardrails, meta: Meta) -> str:
        """Change the guardrails; returns the change id."""
        self._require(Action.SET_GUARDRAILS)
        if guardrails == self.guardrails:
            raise InvalidInput("These guardrails are already in place.", "guardrails")
        state.check_hours_within(guardrails, self.development_hours())
        state.check_nothing_protected_is_away(self, guardrails)
        change_id = _new_id()
        self.trigger_event(
            ev.GuardrailsChanged,
            change_id=change_id,
            guardrails=guardrails,
            **meta.event_fields(),
        )
        return change_id

    def add_adjustment(self, draft: AdjustmentDraft, meta: Meta) -> Adjustment:
        self._require(Action.ADD_ADJUSTMENT)
        self._room_for("adjustments", len(self.adjustments))
        if self.guardrails is not None:
            state.check_hours_within(
                self.guardrails, self.development_hours() + draft.hours_per_week
            )
        (adjustment,) = _adjustments_from([draft])
        self.trigger_event(ev.AdjustmentAdded, adjustment=adjustment, **meta.event_fields())
        return adjustment

    def reallocate(
        self,
        task: str,
        hours_per_week: float,
        from_person_id: str,
        to_person_id: str,
        effective_on: date,
        meta: Meta,
    ) -> ReallocationToggle:
        self._require(Action.REALLOCATE)
        why = reason(meta.reason)
        self._room_for("reallocations", len(self.reallocations))
        if hours_per_week <= 0:
            raise InvalidInput(
                "hoursPerWeek of a reallocation must be more than zero.", "hoursPerWeek"
            )
        if from_person_id == to_person_id:
            raise InvalidInput("A task cannot be reallocated to the same person.", "toPersonId")
        if self.guardrails is not None and self.guardrails.protects(task):
            raise ProtectedResponsibility(
                f"'{task}' is a protected responsibility and cannot be reallocated.",
                "task",
            )
        item = Reallocation(
            _new_id(),
            _new_id(),
            task,
            hours_per_week,
            from_person_id,
            to_person_id,
            effective_on,
            why,
        )
        self.trigger_event(ev.TaskReallocated, reallocation=item, **meta.event_fields())
        return ReallocationToggle(item, active=True)

    def record_review(
        self,
        held_on: date,
        outcome: ReviewOutcome,
        notes: str | None,
        next_review_on: date | None,
        meta: Meta,
    ) -> Review:
        self._require(Action.RECORD_REVIEW)
        self._room_for("reviews", len(self.reviews))
        if next_review_on is None:
            every = self.guardrails.review_every_days if self.guardrails else 30
            next_review_on = held_on + timedelta(days=every)
        if next_review_on <= held_on:
            raise InvalidInput("nextReviewOn must be after heldOn.", "nextReviewOn")
        review = Review(_new_id(), held_on, outcome, notes, next_review_on, meta.actor_id)
        self.trigger_event(ev.ReviewRecorded, review=review, **meta.event_fields())
        return review

    def record_artifact(
        self,
        title: str,
        kind: ArtifactKind,
        url: str | None,
        skills: tuple[str, ...],
        recorded_on: date,
        meta: Meta,
    ) -> Artifact:
        self._require(Action.RECORD_ARTIFACT)
        self._room_for("artifacts", len(self.artifacts))
        artifact = Artifact(_new_id(), title, kind, url, skills, meta.actor_id, recorded_on)
        self.trigger_event(ev.ArtifactRecorded, artifact=artifact, **meta.event_fields())
        return artifact

    def set_sketch(self, sketch: Sketch, contracted_hours: float | None, meta: Meta) -> str:
        """Put a (validated) sketch in place of the one there; returns the change id.
        `contracted_hours` are the employee's, as the directory has them now: the time
        the sketch moves into development is judged against the development hours of
        that week (not judged when they are unknown)."""
        self._require(Action.SET_SKETCH)
        if sketch == self.sketch:
            raise InvalidInput("This sketch is already in place.", "sketch")
        check_sketch(
            sketch,
            development_hours=self.development_hours(),
            contracted_hours=contracted_hours,
            # Looked up by id (not listed: past the cap, the adjustments not in the
            # snapshot's tail are read only when one of them is linked).
            adjustment_ids=self.adjustments,
            reallocation_ids=self.reallocations,
            skills=self.career_goal.skills,
        )
        change_id = _new_id()
        self.trigger_event(
            ev.SketchChanged, change_id=change_id, sketch=sketch, **meta.event_fields()
        )
        return change_id

    def revert_change(self, change_id: str, meta: Meta) -> list[ReallocationToggle]:
        """Undo one change (a revert of a revert re-applies the original)."""
        reason(meta.reason)
        self._require(Action.REVERT)
        head = self.changes.get(change_id)
        if head is None:
            # An adjustment's or a reallocation's own id names its change too.
            item = self.adjustments.get(change_id) or self.reallocations.get(change_id)
            head = None if item is None else self.changes.get(item.change_id)
        if head is None:
            raise NotFound(
                "No change with this id in this agreement: pass the changeId (or the id) "
                "of one of its adjustments, reallocations, guardrail or sketch changes.",
                "changeId",
            )
        reversal.check_revertible(self, head)
        return self._revert([head.id], meta, to_version=None)

    def revert_to_version(self, version: int, meta: Meta) -> list[ReallocationToggle]:
        """Atomically undo every change after `version` that is still in effect."""
        reason(meta.reason)
        self._require(Action.REVERT, words="revert to a version")
        assert self.approved_version is not None
        if not self.approved_version <= version <= self.version:
            raise InvalidInput(
                f"version must be between {self.approved_version} (approval) and {self.version}.",
                "version",
            )
        heads = reversal.plan_revert_to_version(self, version)
        if not heads:
            raise NothingToRevert(f"Nothing has changed since version {version}.", "version")
        return self._revert(heads, meta, to_version=version)

    def pause(self, meta: Meta) -> None:
        reason(meta.reason)
        self._require(Action.PAUSE)
        self.trigger_event(ev.Paused, **meta.event_fields())

    def resume(self, meta: Meta) -> None:
        self._require(Action.RESUME)
        self.trigger_event(ev.Resumed, **meta.event_fields())

    def complete(self, meta: Meta) -> None:
        self._require(Action.COMPLETE)
        self.trigger_event(ev.Completed, **meta.event_fields())

    def withdraw(self, meta: Meta) -> None:
        reason(meta.reason)
        if not lifecycle.allows(self.status, Action.WITHDRAW):
            raise InvalidTransition(f"The agreement is {self.status} and cannot be withdrawn.")
        self.trigger_event(ev.Withdrawn, **meta.event_fields())

    def record_outcome(self, kind: oc.OutcomeKind, achieved_on: date, meta: Meta) -> str:
        """Record what the ended agreement led to; returns the outcome's id."""
        if kind in oc.NEEDS_REASON:
            reason(meta.reason)
        self._require(Action.RECORD_OUTCOME)
        now = oc.current(self.outcomes)
        if now is not None and now["kind"] == kind and now["on"] == achieved_on.isoformat():
            raise InvalidInput("This outcome is already recorded.", "kind")
        outcome_id = _new_id()
        self.trigger_event(
            oc.OutcomeRecorded,
            outcome_id=outcome_id,
            kind=str(kind),
            achieved_on=achieved_on,
            **meta.event_fields(),
        )
        return outcome_id

    def revert_outcome(self, meta: Meta) -> None:
        """Undo the outcome in effect (the one before it, if any, is in effect again)."""
        reason(meta.reason)
        self._require(Action.REVERT_OUTCOME)
        now = oc.current(self.outcomes)
        if now is None:
            raise ChangeNotRevertible("No outcome is in effect on this agreement.", "agreementId")
        self.trigger_event(oc.OutcomeReverted, outcome_id=now["id"], **meta.event_fields())

    # --- reads ---------------------------------------------------------------

    def development_hours(self) -> float:
        """Hours per week of the adjustments in effect."""
        return state.development_hours(self)

    def is_in_effect(self, root_id: str) -> bool:
        """Whether the root change `root_id` is in effect (not reverted)."""
        return state.is_in_effect(self, root_id)

    def head_of(self, root_id: str) -> str:
        """The id of the last change of the root change `root_id`'s chain."""
        return state.head_of(self, root_id)

    def _revert(
        self, head_ids: list[str], meta: Meta, to_version: int | None
    ) -> list[ReallocationToggle]:
        toggles = []
        for head_id in head_ids:
            self.trigger_event(
                ev.ChangeReverted,
                change_id=_new_id(),
                reverted_change_id=head_id,
                to_version=to_version,
                **meta.event_fields(),
            )
            root = self.changes[self.changes[head_id].root_id]
            if root.kind is ChangeKind.TASK_REALLOCATED:
                toggles.append(
                    ReallocationToggle(
                        self.reallocations[root.subject_id], self.is_in_effect(root.id)
                    )
                )
        return toggles

    @staticmethod
    def _room_for(kind: str, held: int) -> None:
        limit = CHILD_LIMITS[kind]
        if held >= limit:
            raise LimitReached(
                f"This agreement already holds {limit} {kind}, the most one agreement may "
                "hold; complete it and start a new one.",
                kind,
            )

    def _require(self, action: Action, words: str | None = None) -> None:
        if not lifecycle.allows(self.status, action):
            what = words or lifecycle.ACTION_WORDS[action]
            raise InvalidTransition(f"Cannot {what}: the agreement is {self.status}.", "status")


def _adjustments_from(drafts: list[AdjustmentDraft]) -> tuple[Adjustment, ...]:
    if len(drafts) > MAX_ADJUSTMENTS_PER_PROPOSAL:
        raise InvalidInput(
            f"At most {MAX_ADJUSTMENTS_PER_PROPOSAL} adjustments per request.", "adjustments"
        )
    return tuple(
        Adjustment(
            _new_id(), _new_id(), d.kind, d.description, d.hours_per_week, d.starts_on, d.ends_on
        )
        for d in drafts
    )


keep_stored_topics("domain.agreement", Agreement)
