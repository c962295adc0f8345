"""Who may do what (SPEC section 3 and rule 1), as pure functions of the caller, the
agreement's employee and the employee's current manager in the directory."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from domain.errors import Forbidden
from domain.values import PERSON_ID_RULE, Role, is_person_id


@dataclass(frozen=True)
class Actor:
    """Who acts: a person id or an integration's name, under the person-id rule (the
    front doors refuse anything else before they get here; this is the last guard, so
    no caller's id with a NUL, a direction override or a look-alike is ever recorded)."""

    id: str
    roles: frozenset[Role]

    def __post_init__(self) -> None:
        if not is_person_id(self.id):
            raise ValueError(f"an actor's id must be {PERSON_ID_RULE}")

    def has(self, role: Role) -> bool:
        return role in self.roles


class Party(Enum):
    """Which side of an agreement an action belongs to."""

    EMPLOYEE = "employee"  # propose, revise, withdraw
    MANAGER = "manager"  # approve, guardrails, adjustments, reviews, reverts, ...
    CONTRIBUTOR = "contributor"  # record artifacts: the employee or a manager


# What a refusal says: the role or relationship needed, never anything about the object
# (an agreement that does not exist is refused with the same words).
NEEDED = {
    Party.EMPLOYEE: "This needs the agreement's employee (role EMPLOYEE) or HR.",
    Party.MANAGER: (
        "This needs the employee's current manager (role MANAGER) or HR, and nobody acts "
        "as manager on their own agreement."
    ),
    Party.CONTRIBUTOR: "This needs the agreement's employee, their current manager, or HR.",
}
READ_AGREEMENT = (
    "Reading an agreement needs its employee, their current manager, HR, AUDITOR or INTEGRATION."
)
WRITE_DIRECTORY = "Changing the directory needs HR or INTEGRATION."
DECIDE_DEACTIVATIONS = "Confirming or dismissing held deactivations needs HR."


def acting_role(actor: Actor, party: Party, employee_id: str, manager_id: str | None) -> Role:
    """The role under which `actor` may act on an agreement of `employee_id`, or
    Forbidden. Nobody acts as manager on their own agreement, HR included."""
    is_employee = actor.id == employee_id
    is_manager = manager_id is not None and actor.id == manager_id and not is_employee
    if party is not Party.MANAGER and is_employee and actor.has(Role.EMPLOYEE):
        return Role.EMPLOYEE
    if party is not Party.EMPLOYEE and is_manager and actor.has(Role.MANAGER):
        return Role.MANAGER
    if actor.has(Role.HR) and not (party is Party.MANAGER and is_employee):
        return Role.HR
    raise Forbidden(NEEDED[party])


MOVE_WORK = (
    "A manager may move work only between the agreement's employee, the people they "
    "manage and themselves."
)


def may_move_work_of(
    role: str, actor_id: str, employee_id: str, person_id: str, persons_manager_id: str | None
) -> bool:
    """Whether one acting as `role` on an agreement of `employee_id` may move work to
    or from `person_id`: HR anyone's; a manager only the employee's, their own reports'
    (as the directory says now) and their own."""
    if role != Role.MANAGER:
        return True
    return person_id in (employee_id, actor_id) or persons_manager_id == actor_id


READS_EVERYTHING = frozenset({Role.HR, Role.AUDITOR, Role.INTEGRATION})


def sees_all(actor: Actor) -> bool:
    """HR, auditors and integrations read everything."""
    return bool(actor.roles & READS_EVERYTHING)


def can_read_agreement(actor: Actor, employee_id: str, manager_id: str | None) -> bool:
    """Employees read their own; managers their direct reports' (as the directory says
    now); HR, auditors and integrations read everything."""
    if sees_all(actor):
        return True
    if actor.id == employee_id:
        return True
    return actor.has(Role.MANAGER) and manager_id is not None and actor.id == manager_id


def can_read_person(
    actor: Actor, person_id: str, their_manager_id: str | None, my_manager_id: str | None
) -> bool:
    """HR, auditors and integrations read everyone; anyone reads themselves and their
    own manager; a manager reads their direct reports (as the directory says now)."""
    if sees_all(actor) or person_id == actor.id or my_manager_id == person_id:
        return True
    return actor.has(Role.MANAGER) and their_manager_id == actor.id


READ_EVIDENCE = (
    "Reading a person's career evidence needs the person, their manager, HR, AUDITOR or "
    "INTEGRATION."
)


def can_read_evidence(actor: Actor, person_id: str, their_manager_id: str | None) -> bool:
    """A person's career evidence (agreements, artifacts, reviews): the person, their
    current manager (as the directory says now), HR, auditors and integrations. Stricter
    than reading the person: an employee sees their manager's name, not their career."""
    if sees_all(actor) or person_id == actor.id:
        return True
    return actor.has(Role.MANAGER) and their_manager_id == actor.id


def require_directory_writer(actor: Actor) -> Role:
    """Only HR and integrations push the people directory."""
    for role in (Role.HR, Role.INTEGRATION):
        if actor.has(role):
            return role
    raise Forbidden(WRITE_DIRECTORY)


def require_hr(actor: Actor, needed: str) -> Role:
    """Only HR decides (held deactivation waves, ...)."""
    if actor.has(Role.HR):
        return Role.HR
    raise Forbidden(needed)


MANAGE_WEBHOOKS = "Webhook subscriptions need HR or INTEGRATION."


def webhook_role(actor: Actor) -> Role:
    """The role under which `actor` manages webhook subscriptions (and whose read
    rights bound what its deliveries carry), or Forbidden."""
    for role in (Role.INTEGRATION, Role.HR):
        if actor.has(role):
            return role
    raise Forbidden(MANAGE_WEBHOOKS)


def can_manage_subscription(actor: Actor, owner_id: str) -> bool:
    """HR manages every subscription; an integration the ones it created."""
    if actor.has(Role.HR):
        return True
    return actor.has(Role.INTEGRATION) and actor.id == owner_id


def role_reads_all_events(role: str) -> bool:
    """Whether a role may read every event's payload (the change feed's rule)."""
    return role in {str(r) for r in READS_EVERYTHING}


READ_INSIGHTS = "Insights need HR or AUDITOR, or MANAGER for the teams of the people they manage."


def insights_reach(actor: Actor) -> str | None:
    """How much of the insights `actor` reads: "all" (HR, auditors), "own teams"
    (managers: the teams of their reports, and only figures released org-wide), or None.
    Integrations are left out: aggregate figures about people are for people who answer
    for them, not for a sync job."""
    if actor.has(Role.HR) or actor.has(Role.AUDITOR):
        return "all"
    if actor.has(Role.MANAGER):
        return "own teams"
    return None
