"""One handler per command: validate the input, authorize, call the aggregate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from domain import commands as c
from domain.access import Party, acting_role, require_directory_writer
from domain.agreement import Agreement, ReallocationToggle
from domain.errors import Forbidden, InvalidInput, ReceiverOverloaded, UnknownPerson
from domain.ledger import Side
from domain.metadata import Meta
from domain.person import Person, Profile
from domain.session import CommandSession
from domain.values import (
    ArtifactKind,
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

Outcome = Agreement | list[Person]
C = TypeVar("C", bound=c.Command)
_HANDLERS: dict[type[c.Command], Callable[[CommandSession, Any], Outcome]] = {}
MAX_PEOPLE_PER_UPSERT = 500


def handles(command_type: type[C]) -> Callable[[Callable[[CommandSession, C], Outcome]], None]:
    def register(func: Callable[[CommandSession, C], Outcome]) -> None:
        _HANDLERS[command_type] = func

    return register


def handle(session: CommandSession, command: c.Command) -> Outcome:
    """Run the handler registered for the command's type."""
    return _HANDLERS[type(command)](session, command)


@handles(c.ProposeAgreement)
def _propose(s: CommandSession, cmd: c.ProposeAgreement) -> Outcome:
    employee_id = person_id(cmd.employee_id or s.actor.id, "employeeId")
    # Who may propose is decided before whether the person exists: otherwise the answer
    # would tell a caller which ids are in the directory.
    role = acting_role(s.actor, Party.EMPLOYEE, employee_id, None)
    s.person(employee_id, "employeeId")
    drafts = [a.validated(f"adjustments[{i}]") for i, a in enumerate(cmd.adjustments)]
    title = text(cmd.title, "title", max_length=200)
    agreement = Agreement.propose(
        employee_id, title, cmd.career_goal.validated(), drafts, s.meta(role)
    )
    s.enlist(agreement)
    return agreement


@handles(c.ReviseProposal)
def _revise(s: CommandSession, cmd: c.ReviseProposal) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.EMPLOYEE)
    drafts = [a.validated(f"adjustments[{i}]") for i, a in enumerate(cmd.adjustments)]
    title = text(cmd.title, "title", max_length=200)
    agreement.revise(title, cmd.career_goal.validated(), drafts, meta)
    return agreement


@handles(c.RequestChanges)
def _request_changes(s: CommandSession, cmd: c.RequestChanges) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    agreement.request_changes(meta)
    return agreement


@handles(c.ApproveAgreement)
def _approve(s: CommandSession, cmd: c.ApproveAgreement) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    manager_id = s.manager_of(agreement.employee_id)
    agreement.approve(manager_id, cmd.guardrails.validated(), s.today, meta)
    return agreement


@handles(c.RejectAgreement)
def _reject(s: CommandSession, cmd: c.RejectAgreement) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    agreement.reject(meta)
    return agreement


@handles(c.SetGuardrails)
def _set_guardrails(s: CommandSession, cmd: c.SetGuardrails) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    agreement.set_guardrails(cmd.guardrails.validated(), meta)
    return agreement


@handles(c.AddAdjustment)
def _add_adjustment(s: CommandSession, cmd: c.AddAdjustment) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    agreement.add_adjustment(cmd.adjustment.validated("adjustment"), meta)
    return agreement


@handles(c.ReallocateTask)
def _reallocate(s: CommandSession, cmd: c.ReallocateTask) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    giver = person_id(cmd.from_person_id or agreement.employee_id, "fromPersonId")
    receiver = person_id(cmd.to_person_id, "toPersonId")
    for pid, field in ((giver, "fromPersonId"), (receiver, "toPersonId")):
        _party_to_reallocation(s, agreement, pid, field, meta)
    toggle = agreement.reallocate(
        text(cmd.task, "task", max_length=200),
        hours(cmd.hours_per_week, "hoursPerWeek", maximum=40),
        giver,
        receiver,
        day(cmd.effective_on or s.today, "effectiveOn"),
        meta,
    )
    _follow_in_ledgers(s, agreement, [toggle], meta)
    return agreement


def _party_to_reallocation(
    s: CommandSession, agreement: Agreement, pid: str, field: str, meta: Meta
) -> None:
    """An active person whose work may move: HR may move anyone's; a manager only the
    agreement's employee's, their reports' and their own. Who may is decided before
    whether the person exists (an unknown id is refused like someone else's report), and
    one directory lookup serves both."""
    person = s.find_person(pid)
    manager = s.actor.id
    if (
        meta.actor_role == Role.MANAGER
        and pid not in (agreement.employee_id, manager)
        and (person is None or person.profile.manager_id != manager)
    ):
        raise Forbidden(
            "A manager may move work only between the agreement's employee, "
            "the people they manage and themselves."
        )
    if person is None or not person.profile.active:
        raise UnknownPerson(f"No active person with id '{pid}'.", field)


@handles(c.RecordReview)
def _record_review(s: CommandSession, cmd: c.RecordReview) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    agreement.record_review(
        day(cmd.held_on or s.today, "heldOn"),
        choice(ReviewOutcome, cmd.outcome, "outcome"),
        optional_text(cmd.notes, "notes", max_length=5000),
        optional_day(cmd.next_review_on, "nextReviewOn"),
        meta,
    )
    return agreement


@handles(c.RecordArtifact)
def _record_artifact(s: CommandSession, cmd: c.RecordArtifact) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.CONTRIBUTOR)
    agreement.record_artifact(
        text(cmd.title, "title", max_length=200),
        choice(ArtifactKind, cmd.kind, "kind"),
        url(cmd.url),
        skills(cmd.skills),
        s.today,
        meta,
    )
    return agreement


@handles(c.RevertChange)
def _revert_change(s: CommandSession, cmd: c.RevertChange) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    toggles = agreement.revert_change(text(cmd.change_id, "changeId", max_length=64), meta)
    _follow_in_ledgers(s, agreement, toggles, meta)
    return agreement


@handles(c.RevertToVersion)
def _revert_to_version(s: CommandSession, cmd: c.RevertToVersion) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    toggles = agreement.revert_to_version(cmd.version, meta)
    _follow_in_ledgers(s, agreement, toggles, meta)
    return agreement


@handles(c.PauseAgreement)
def _pause(s: CommandSession, cmd: c.PauseAgreement) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    agreement.pause(meta)
    return agreement


@handles(c.ResumeAgreement)
def _resume(s: CommandSession, cmd: c.ResumeAgreement) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    agreement.resume(meta)
    return agreement


@handles(c.CompleteAgreement)
def _complete(s: CommandSession, cmd: c.CompleteAgreement) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.MANAGER)
    agreement.complete(meta)
    return agreement


@handles(c.WithdrawAgreement)
def _withdraw(s: CommandSession, cmd: c.WithdrawAgreement) -> Outcome:
    agreement, meta = s.agreement(cmd.agreement_id, Party.EMPLOYEE)
    agreement.withdraw(meta)
    return agreement


@handles(c.UpsertPeople)
def _upsert_people(s: CommandSession, cmd: c.UpsertPeople) -> Outcome:
    meta = s.meta(require_directory_writer(s.actor))
    if not 1 <= len(cmd.people) <= MAX_PEOPLE_PER_UPSERT:
        raise InvalidInput(f"Send between 1 and {MAX_PEOPLE_PER_UPSERT} people.", "people")
    batch: dict[str, Person | None] = {}
    profiles = []
    for i, entry in enumerate(cmd.people):
        pid = person_id(entry.id, f"people[{i}].id")
        if pid in batch:
            raise InvalidInput(f"'{pid}' appears twice in this request.", f"people[{i}].id")
        profile = entry.profile.validated(f"people[{i}]")
        if profile.manager_id == pid:
            raise InvalidInput("A person cannot manage themselves.", f"people[{i}].managerId")
        batch[pid] = s.find_person(pid)
        profiles.append((i, pid, profile))
    _refuse_manager_cycles(s, profiles)
    people = []
    for i, pid, profile in profiles:
        manager = profile.manager_id
        if manager is not None and manager not in batch and s.find_person(manager) is None:
            raise UnknownPerson(
                f"Manager '{manager}' is not in the directory.", f"people[{i}].managerId"
            )
        person = batch[pid]
        if person is None:
            person = Person.register(pid, profile, meta)
        else:
            person.update(profile, meta)
        s.enlist(person)
        people.append(person)
    return people


def _refuse_manager_cycles(s: CommandSession, profiles: list[tuple[int, str, Profile]]) -> None:
    """Nobody may end up managing themselves through a chain of managers (A manages B,
    B manages A): walk up from everyone in the request, the request's own managers
    taking the place of the directory's."""
    managers: dict[str, str | None] = {pid: profile.manager_id for _, pid, profile in profiles}

    def manager_of(pid: str) -> str | None:
        if pid not in managers:
            person = s.find_person(pid)
            managers[pid] = None if person is None else person.profile.manager_id
        return managers[pid]

    for i, start, _ in profiles:
        chain, current = [start], manager_of(start)
        while current is not None and current not in chain:
            chain.append(current)
            current = manager_of(current)
        if current == start:
            loop = " → ".join([*chain, start])
            raise InvalidInput(
                f"This would make '{start}' their own manager through others ({loop}).",
                f"people[{i}].managerId",
            )


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
        if now > limit and now > was:
            # Nobody's load is told: the receiver may be outside the caller's reports.
            raise ReceiverOverloaded(
                f"'{pid}' cannot take on more reallocated work: the net hours a person "
                f"receives are limited to {limit:g} per week.",
                "toPersonId",
            )
