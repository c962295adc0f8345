"""Where each person's work is: the page they land on after signing in, and the counts
the navigation shows (what awaits them, the notifications they have not seen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.access import Actor, Party, acting_role, insights_reach, sees_all
from domain.errors import Forbidden
from domain.values import Role

REVIEW_HORIZON = timedelta(days=14)  # reviews due this soon are in the inbox
COUNTED = 99  # the navigation says "99+" beyond


def landing(actor: Actor) -> str:
    """A manager lands on the inbox; HR and auditors on all agreements; anyone else
    on their own agreements."""
    if actor.has(Role.MANAGER):
        return "/inbox"
    if sees_all(actor):
        return "/agreements"
    return "/"


def may_act(actor: Actor, party: Party, employee_id: str, manager_id: str | None) -> bool:
    """Whether the person acts on this agreement's `party` side (domain.access decides)."""
    try:
        acting_role(actor, party, employee_id, manager_id)
    except Forbidden:
        return False
    return True


def has_inbox(actor: Actor) -> bool:
    return actor.has(Role.MANAGER) or actor.has(Role.HR)


@dataclass(frozen=True)
class Link:
    href: str
    label: str
    count: int | None = None  # what awaits the person there
    counted_as: str = "waiting"  # what the count is of, for screen readers


def may_propose(actor: Actor) -> bool:
    """Whether the person may propose an agreement (for themselves; HR for anyone)."""
    return may_act(actor, Party.EMPLOYEE, actor.id, None)


def links(
    actor: Actor,
    in_directory: bool,
    waiting: int | None,
    unread: int | None = None,
    held: int | None = None,
) -> list[Link]:
    """The navigation, the person's work first: a manager's inbox and team, HR's and
    auditors' agreements, people (and, while a wave is held for HR's decision, the held
    deactivations) and audit log; then their own agreements, career evidence and
    notifications (with how many they have not seen)."""
    found: list[Link] = []
    if has_inbox(actor):
        found.append(Link("/inbox", "Inbox", waiting))
    if sees_all(actor):
        found += [Link("/agreements", "All agreements"), Link("/people", "People")]
    if held:
        found.append(Link("/deactivations", "Held deactivations", held, "people"))
    if actor.has(Role.MANAGER):
        found.append(Link("/reports", "My reports"))
    if actor.has(Role.MANAGER) or sees_all(actor):
        found.append(Link("/team", "Team workload"))
    if insights_reach(actor) is not None:
        found.append(Link("/insights", "Insights"))
    if sees_all(actor):
        found.append(Link("/audit", "Audit log"))
    found.append(Link("/", "My agreements"))
    if may_propose(actor):
        found.append(Link("/agreements/new", "Propose"))
    if in_directory:  # people in the directory have career evidence
        found.append(Link("/career", "Career evidence"))
    found.append(Link("/notifications", "Notifications", unread, "new"))
    return found
