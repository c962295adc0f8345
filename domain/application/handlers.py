"""One handler per command: validate the input, authorize, call the aggregate. The
table at the end (`HANDLERS`) says which handler runs which command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.access import MOVE_WORK, Party, acting_role, may_move_work_of
from domain.agreement import Agreement, ReallocationToggle
from domain.agreement.outcomes import OutcomeKind
from domain.application import commands as c
from domain.application import webhooks
from domain.application.directory import (
    confirm_deactivations,
    dismiss_deactivations,
    upsert_people,
)
from domain.application.session import CommandSession
from domain.errors import Forbidden, InvalidInput, ReceiverOverloaded, UnknownPerson
from domain.ledger import Side, overloads
from domain.metadata import Meta
from domain.person import Person
from domain.sketch_drafts import validated_sketch
from domain.values import (
    AdjustmentDraft,
    ArtifactKind,
    CareerGoal,
    ReviewOutcome,
    Role,
    choice,
    day,
    hours,
    optional_day,
    optional_text,
    person_id,
    skills,
    text,
    url,
)
from domain.webhooks.policy import SubscriptionChange

Outcome = Agreement | list[Person] | SubscriptionChange
Handler = Callable[[CommandSession, Any], Outcome]
Act = Callable[[CommandSession, Agreement, Any, Meta], None]
"""What a command does to an agreement the caller may act on (loaded by `on_agreement`)."""
HR_ONLY = "Legal holds and erasure need HR."


def handle(session: CommandSession, command: c.Command) -> Outcome:
    """Run the handler of the command's type (see HANDLERS at the end)."""
    return HANDLERS[type(command)](session, command)


def on_agreement(party: Party, act: Act) -> Handler:
    """A handler that loads the agreement as `party` (access and expected version
    checked), lets `act` change it, and returns it."""

    def run(s: CommandSession, cmd: c.AgreementCommand) -> Outcome:
        agreement, meta = s.agreement(cmd.agreement_id, party)
        act(s, agreement, cmd, meta)
        return agreement

    return run


def _propose(s: CommandSession, cmd: c.ProposeAgreement) -> Outcome:
    employee_id = person_id(cmd.employee_id or s.actor.id, "employeeId")
    # Who may propose is decided before whether the person exists: otherwise the answer
    # would tell a caller which ids are in the directory.
    role = acting_role(s.actor, Party.EMPLOYEE, employee_id, None)
    s.person(employee_id, "employeeId")
    title, goal, drafts = _proposal(cmd)
    agreement = Agreement.propose(employee_id, title, goal, drafts, s.meta(role))
    s.enlist(agreement)
    return agreement


def _revise(s: CommandSession, a: Agreement, cmd: c.ReviseProposal, meta: Meta) -> None:
    a.revise(*_proposal(cmd), meta)


def _proposal(cmd: c.Proposal) -> tuple[str, CareerGoal, list[AdjustmentDraft]]:
    """A proposal's title, career goal and adjustments, validated."""
    drafts = [a.validated(f"adjustments[{i}]") for i, a in enumerate(cmd.adjustments)]
    return text(cmd.title, "title", max_length=200), cmd.career_goal.validated(), drafts


def _approve(s: CommandSession, a: Agreement, cmd: c.ApproveAgreement, meta: Meta) -> None:
    a.approve(s.manager_of(a.employee_id), cmd.guardrails.validated(), s.today, meta)


def _reallocate(s: CommandSession, a: Agreement, cmd: c.ReallocateTask, meta: Meta) -> None:
    giver = person_id(cmd.from_person_id or a.employee_id, "fromPersonId")
    receiver = person_id(cmd.to_person_id, "toPersonId")
    s.prefetch([giver, receiver], [receiver, giver])  # one read where there were three
    for pid, field in ((giver, "fromPersonId"), (receiver, "toPersonId")):
        _party_to_reallocation(s, a, pid, field, meta)
    toggle = a.reallocate(
        text(cmd.task, "task", max_length=200),
        hours(cmd.hours_per_week, "hoursPerWeek", maximum=40),
        giver,
        receiver,
        day(cmd.effective_on or s.today, "effectiveOn"),
        meta,
    )
    _follow_in_ledgers(s, a, [toggle], meta)


def _party_to_reallocation(
    s: CommandSession, agreement: Agreement, pid: str, field: str, meta: Meta
) -> None:
    """An active person whose work may move: HR may move anyone's; a manager only the
    agreement's employee's, their reports' and their own. Who may is decided before
    whether the person exists (an unknown id is refused like someone else's report), and
    one directory lookup serves both."""
    person = s.find_person(pid)
    managed_by = None if person is None else person.profile.manager_id
    if not may_move_work_of(meta.actor_role, s.actor.id, agreement.employee_id, pid, managed_by):
        raise Forbidden(MOVE_WORK)
    if person is None or not person.profile.active:
        raise UnknownPerson(f"No active person with id '{pid}'.", field)


def _record_review(s: CommandSession, a: Agreement, cmd: c.RecordReview, meta: Meta) -> None:
    a.record_review(
        day(cmd.held_on or s.today, "heldOn"),
        choice(ReviewOutcome, cmd.outcome, "outcome"),
        optional_text(cmd.notes, "notes", max_length=5000, multiline=True),
        optional_day(cmd.next_review_on, "nextReviewOn"),
        meta,
    )


def _record_artifact(s: CommandSession, a: Agreement, cmd: c.RecordArtifact, meta: Meta) -> None:
    a.record_artifact(
        text(cmd.title, "title", max_length=200),
        choice(ArtifactKind, cmd.kind, "kind"),
        url(cmd.url),
        skills(cmd.skills),
        s.today,
        meta,
    )


def _set_sketch(s: CommandSession, a: Agreement, cmd: c.SetSketch, meta: Meta) -> None:
    sketch = validated_sketch(cmd.sketch)
    for index, item in enumerate(sketch.relationships):
        if item.person_id is not None:
            person = s.find_person(item.person_id)
            if person is None or not person.profile.active:
                raise UnknownPerson(
                    f"No active person with id '{item.person_id}'.",
                    f"relationships[{index}].personId",
                )
    employee = s.find_person(a.employee_id)
    contracted = None if employee is None else employee.profile.contracted_hours_per_week
    a.set_sketch(sketch, contracted, meta)


def _revert_change(s: CommandSession, a: Agreement, cmd: c.RevertChange, meta: Meta) -> None:
    change_id = text(cmd.change_id, "changeId", max_length=64)
    _follow_in_ledgers(s, a, a.revert_change(change_id, meta), meta)


def _revert_to_version(s: CommandSession, a: Agreement, cmd: c.RevertToVersion, meta: Meta) -> None:
    _follow_in_ledgers(s, a, a.revert_to_version(cmd.version, meta), meta)


def _record_outcome(s: CommandSession, a: Agreement, cmd: c.RecordOutcome, meta: Meta) -> None:
    achieved_on = day(cmd.achieved_on or s.today, "achievedOn")
    if achieved_on > s.today:
        raise InvalidInput("achievedOn cannot be in the future.", "achievedOn")
    a.record_outcome(choice(OutcomeKind, cmd.kind, "kind"), achieved_on, meta)


def _on_person(step: Callable[[Person, Meta], None], *, erase: bool = False) -> Handler:
    """A handler of HR's actions on one person of the directory (holds, erasure)."""

    def run(s: CommandSession, cmd: c.PersonCommand) -> Outcome:
        if not s.actor.has(Role.HR):
            raise Forbidden(HR_ONLY)
        pid = person_id(cmd.person_id, "personId")
        person = s.find_person(pid)
        if person is None:
            raise UnknownPerson(f"No person with id '{pid}'.", "personId")
        step(person, s.meta(Role.HR))
        s.enlist(person)
        if erase:
            s.destroy_key(pid)
        return [person]

    return run


def _follow_in_ledgers(
    s: CommandSession, agreement: Agreement, toggles: list[ReallocationToggle], meta: Meta
) -> None:
    """Book or release the hours of each toggled reallocation in both people's ledgers,
    then refuse if anyone's net received hours went up past the limit (rule 4)."""
    before: dict[str, float] = {}
    for toggle in toggles:
        item = toggle.reallocation
        for pid, side in ((item.to_person_id, Side.RECEIVED), (item.from_person_id, Side.GIVEN)):
            ledger = s.ledger(pid, meta)
            before.setdefault(pid, ledger.net_received)
            if toggle.active:
                ledger.book(item.id, agreement.id, side, item.hours_per_week, meta)
            else:
                ledger.release(item.id, agreement.id, meta)
    limit = s.max_hours_received_per_week
    for pid, was in before.items():
        now = s.ledger(pid, meta).net_received
        if overloads(was, now, limit):
            # Nobody's load is told: the receiver may be outside the caller's reports.
            raise ReceiverOverloaded(
                f"'{pid}' cannot take on more reallocated work: the net hours a person "
                f"receives are limited to {limit:g} per week.",
                "toPersonId",
            )


def _just(step: Callable[[Agreement, Meta], None]) -> Act:
    """A command that takes nothing but its reason (pause, reject, ...)."""
    return lambda _s, agreement, _cmd, meta: step(agreement, meta)


def _with(step: Callable[[Agreement, Any, Meta], Any], value: Callable[[Any], Any]) -> Act:
    """A command that passes one validated value to the agreement."""
    return lambda _s, agreement, cmd, meta: step(agreement, value(cmd), meta)


def _issue_dossier(
    s: CommandSession, agreement: Agreement, cmd: c.IssueDossier, meta: Meta
) -> None:
    """Record the issue in the agreement's dossier register (the agreement is unchanged)."""
    s.dossier_register(agreement.id, meta).issue(
        meta,
        agreement_version=cmd.agreement_version,
        last_event_hash=cmd.last_event_hash,
        checkpoint_position=cmd.checkpoint_position,
        facts_digest=cmd.facts_digest,
    )


HANDLERS: dict[type[c.Command], Handler] = {
    c.ProposeAgreement: _propose,
    c.ReviseProposal: on_agreement(Party.EMPLOYEE, _revise),
    c.WithdrawAgreement: on_agreement(Party.EMPLOYEE, _just(Agreement.withdraw)),
    c.RequestChanges: on_agreement(Party.MANAGER, _just(Agreement.request_changes)),
    c.ApproveAgreement: on_agreement(Party.MANAGER, _approve),
    c.RejectAgreement: on_agreement(Party.MANAGER, _just(Agreement.reject)),
    c.SetGuardrails: on_agreement(
        Party.MANAGER, _with(Agreement.set_guardrails, lambda cmd: cmd.guardrails.validated())
    ),
    c.AddAdjustment: on_agreement(
        Party.MANAGER,
        _with(Agreement.add_adjustment, lambda cmd: cmd.adjustment.validated("adjustment")),
    ),
    c.ReallocateTask: on_agreement(Party.MANAGER, _reallocate),
    c.RecordReview: on_agreement(Party.MANAGER, _record_review),
    c.RecordArtifact: on_agreement(Party.CONTRIBUTOR, _record_artifact),
    c.SetSketch: on_agreement(Party.EMPLOYEE, _set_sketch),
    c.RevertChange: on_agreement(Party.MANAGER, _revert_change),
    c.RevertToVersion: on_agreement(Party.MANAGER, _revert_to_version),
    c.PauseAgreement: on_agreement(Party.MANAGER, _just(Agreement.pause)),
    c.ResumeAgreement: on_agreement(Party.MANAGER, _just(Agreement.resume)),
    c.CompleteAgreement: on_agreement(Party.MANAGER, _just(Agreement.complete)),
    c.RecordOutcome: on_agreement(Party.MANAGER, _record_outcome),
    c.RevertOutcome: on_agreement(Party.MANAGER, _just(Agreement.revert_outcome)),
    # The employee, their manager or HR (the contributors) may be issued a dossier.
    c.IssueDossier: on_agreement(Party.CONTRIBUTOR, _issue_dossier),
    c.UpsertPeople: upsert_people,
    c.ConfirmDeactivations: confirm_deactivations,
    c.DismissDeactivations: dismiss_deactivations,
    c.PlaceLegalHold: _on_person(Person.place_hold),
    c.LiftLegalHold: _on_person(Person.lift_hold),
    c.ErasePerson: _on_person(Person.erase, erase=True),
    c.CreateWebhookSubscription: webhooks.create,
    c.PauseWebhookSubscription: webhooks.pause,
    c.ResumeWebhookSubscription: webhooks.resume,
    c.DeleteWebhookSubscription: webhooks.delete,
    c.RotateWebhookSecret: webhooks.rotate,
    c.RedeliverWebhooks: webhooks.redeliver,
    c.DisableWebhookSubscription: webhooks.disable,
}
"""Every command and its handler, with the party the caller must be to the agreement."""
