"""Events of the agreement aggregate. Each `apply` only changes state (through
`domain.agreement.state`): the rules were checked by the command before the event was
triggered, so replaying history never re-judges it with today's rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from domain.agreement import state
from domain.agreement.state import AgreementState
from domain.agreement.topics import keep_stored_topics
from domain.metadata import RecordedEvent
from domain.records import Adjustment, Artifact, Reallocation, Review
from domain.sketch import Sketch, without_links_to
from domain.values import AgreementStatus, CareerGoal, Guardrails


class AgreementEvent(RecordedEvent):
    pass


class Proposed(AgreementEvent, Aggregate.Created):
    class_version = 2
    employee_id: str
    title: str
    career_goal: CareerGoal
    adjustments: tuple[Adjustment, ...]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        # The first release stored the career goal as flat fields.
        state["career_goal"] = CareerGoal(
            target_role=state.pop("target_role"),
            skills=tuple(state.pop("skills")),
            target_date=None,
        )


class ProposalRevised(AgreementEvent):
    title: str
    career_goal: CareerGoal
    adjustments: tuple[Adjustment, ...]

    def apply(self, agreement: AgreementState) -> None:
        agreement.title = self.title
        agreement.career_goal = self.career_goal
        agreement.adjustments = {}
        agreement.changes = {}
        agreement.active_adjustments, agreement.active_hours = 0, 0.0
        for adjustment in self.adjustments:
            state.add_adjustment(agreement, adjustment, self.originator_version)
        if agreement.sketch is not None:
            # The revised proposal's adjustments are new: the sketch's links to the old
            # ones go (the projector does the same to its row).
            ids = frozenset(a.id for a in self.adjustments)
            agreement.sketch = without_links_to(agreement.sketch, ids)
        agreement.status = AgreementStatus.PROPOSED


class ChangesRequested(AgreementEvent):
    def apply(self, agreement: AgreementState) -> None:
        agreement.status = AgreementStatus.CHANGES_REQUESTED


class Approved(AgreementEvent):
    manager_id: str | None
    guardrails: Guardrails
    guardrails_change_id: str
    next_review_on: date

    def apply(self, agreement: AgreementState) -> None:
        agreement.status = AgreementStatus.ACTIVE
        agreement.manager_id = self.manager_id
        agreement.approved_version = self.originator_version
        agreement.next_review_on = self.next_review_on
        state.set_guardrails(
            agreement, self.guardrails_change_id, self.guardrails, self.originator_version
        )


class Rejected(AgreementEvent):
    def apply(self, agreement: AgreementState) -> None:
        agreement.status = AgreementStatus.REJECTED


class GuardrailsChanged(AgreementEvent):
    change_id: str
    guardrails: Guardrails

    def apply(self, agreement: AgreementState) -> None:
        state.set_guardrails(agreement, self.change_id, self.guardrails, self.originator_version)


class AdjustmentAdded(AgreementEvent):
    adjustment: Adjustment

    def apply(self, agreement: AgreementState) -> None:
        state.add_adjustment(agreement, self.adjustment, self.originator_version)


class TaskReallocated(AgreementEvent):
    reallocation: Reallocation

    def apply(self, agreement: AgreementState) -> None:
        state.add_reallocation(agreement, self.reallocation, self.originator_version)


class ChangeReverted(AgreementEvent):
    change_id: str
    reverted_change_id: str
    to_version: int | None  # set when part of revertToVersion

    def apply(self, agreement: AgreementState) -> None:
        state.revert(agreement, self.reverted_change_id, self.change_id, self.originator_version)


class ReviewRecorded(AgreementEvent):
    review: Review

    def apply(self, agreement: AgreementState) -> None:
        agreement.reviews.append(self.review)
        agreement.next_review_on = self.review.next_review_on


class ArtifactRecorded(AgreementEvent):
    artifact: Artifact

    def apply(self, agreement: AgreementState) -> None:
        agreement.artifacts.append(self.artifact)


class SketchChanged(AgreementEvent):
    change_id: str
    sketch: Sketch

    def apply(self, agreement: AgreementState) -> None:
        state.set_sketch(agreement, self.change_id, self.sketch, self.originator_version)


class Paused(AgreementEvent):
    def apply(self, agreement: AgreementState) -> None:
        agreement.status = AgreementStatus.PAUSED


class Resumed(AgreementEvent):
    def apply(self, agreement: AgreementState) -> None:
        agreement.status = AgreementStatus.ACTIVE


class Completed(AgreementEvent):
    def apply(self, agreement: AgreementState) -> None:
        agreement.status = AgreementStatus.COMPLETED


class Withdrawn(AgreementEvent):
    def apply(self, agreement: AgreementState) -> None:
        agreement.status = AgreementStatus.WITHDRAWN


# Stored events name their class by this topic; it is hashed into the chains.
keep_stored_topics("domain.agreement_events", AgreementEvent, *AgreementEvent.__subclasses__())
