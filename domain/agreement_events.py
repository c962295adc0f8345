"""Events of the agreement aggregate. Each `apply` only changes state: the rules were
checked by the command before the event was triggered, so replaying history never
re-judges it with today's rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from domain.metadata import RecordedEvent
from domain.records import (
    Adjustment,
    Artifact,
    Change,
    ChangeKind,
    Reallocation,
    Review,
)
from domain.values import AgreementStatus, CareerGoal, ChangeStatus, Guardrails

if TYPE_CHECKING:
    from domain.agreement import Agreement


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

    def apply(self, agreement: Agreement) -> None:
        agreement.title = self.title
        agreement.career_goal = self.career_goal
        agreement.adjustments = {}
        agreement.changes = {}
        agreement.chains = {}
        for adjustment in self.adjustments:
            agreement.record_adjustment(adjustment, self.originator_version)
        agreement.status = AgreementStatus.PROPOSED


class ChangesRequested(AgreementEvent):
    def apply(self, agreement: Agreement) -> None:
        agreement.status = AgreementStatus.CHANGES_REQUESTED


class Approved(AgreementEvent):
    manager_id: str | None
    guardrails: Guardrails
    guardrails_change_id: str
    next_review_on: date

    def apply(self, agreement: Agreement) -> None:
        agreement.status = AgreementStatus.ACTIVE
        agreement.manager_id = self.manager_id
        agreement.approved_version = self.originator_version
        agreement.next_review_on = self.next_review_on
        agreement.record_guardrails(
            self.guardrails_change_id,
            agreement.guardrails,
            self.guardrails,
            self.originator_version,
        )


class Rejected(AgreementEvent):
    def apply(self, agreement: Agreement) -> None:
        agreement.status = AgreementStatus.REJECTED


class GuardrailsChanged(AgreementEvent):
    change_id: str
    guardrails: Guardrails

    def apply(self, agreement: Agreement) -> None:
        agreement.record_guardrails(
            self.change_id, agreement.guardrails, self.guardrails, self.originator_version
        )


class AdjustmentAdded(AgreementEvent):
    adjustment: Adjustment

    def apply(self, agreement: Agreement) -> None:
        agreement.record_adjustment(self.adjustment, self.originator_version)


class TaskReallocated(AgreementEvent):
    reallocation: Reallocation

    def apply(self, agreement: Agreement) -> None:
        item = self.reallocation
        agreement.reallocations[item.id] = item
        agreement.add_change(
            Change(
                item.change_id,
                ChangeKind.TASK_REALLOCATED,
                item.change_id,
                item.id,
                self.originator_version,
            )
        )


class ChangeReverted(AgreementEvent):
    change_id: str
    reverted_change_id: str
    to_version: int | None  # set when part of revertToVersion

    def apply(self, agreement: Agreement) -> None:
        head = agreement.changes[self.reverted_change_id]
        agreement.changes[head.id] = replace(head, reverted_by=self.change_id)
        root = agreement.changes[head.root_id]
        agreement.add_change(
            Change(
                self.change_id,
                ChangeKind.CHANGE_REVERTED,
                root.id,
                root.subject_id,
                self.originator_version,
                reverts=head.id,
                guardrails_before=head.guardrails_after,
                guardrails_after=head.guardrails_before,
            )
        )
        effective = agreement.is_effective(root.id)
        status = ChangeStatus.ACTIVE if effective else ChangeStatus.REVERTED
        if root.kind is ChangeKind.ADJUSTMENT_ADDED:
            adjustment = agreement.adjustments[root.subject_id]
            agreement.adjustments[adjustment.id] = replace(adjustment, status=status)
        elif root.kind is ChangeKind.TASK_REALLOCATED:
            item = agreement.reallocations[root.subject_id]
            agreement.reallocations[item.id] = replace(item, status=status)
        else:
            agreement.guardrails = head.guardrails_before


class ReviewRecorded(AgreementEvent):
    review: Review

    def apply(self, agreement: Agreement) -> None:
        agreement.reviews.append(self.review)
        agreement.next_review_on = self.review.next_review_on


class ArtifactRecorded(AgreementEvent):
    artifact: Artifact

    def apply(self, agreement: Agreement) -> None:
        agreement.artifacts.append(self.artifact)


class Paused(AgreementEvent):
    def apply(self, agreement: Agreement) -> None:
        agreement.status = AgreementStatus.PAUSED


class Resumed(AgreementEvent):
    def apply(self, agreement: Agreement) -> None:
        agreement.status = AgreementStatus.ACTIVE


class Completed(AgreementEvent):
    def apply(self, agreement: Agreement) -> None:
        agreement.status = AgreementStatus.COMPLETED


class Withdrawn(AgreementEvent):
    def apply(self, agreement: Agreement) -> None:
        agreement.status = AgreementStatus.WITHDRAWN
