"""Between SCIM Users and the directory: a `people` read row as a User, and a User as
the directory entry `upsertPeople` takes. The person id is both `id` and `userName`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scim2_models import Meta, MutabilityException

from api.http.numbers import version_number
from api.scim.models import CraftingUser, Email, EnterpriseUser, Manager, ScimUser
from domain.application.commands import DirectoryEntry
from domain.person import Profile, Provisioning
from projections.rows import Row


def etag(version: int) -> str:
    """A person's version as a weak ETag (`meta.version`)."""
    return f'W/"{version}"'


def version_of(tag: str | None) -> int | None:
    """The person version an ETag names, or None when it names none of ours."""
    if tag is None:
        return None
    return version_number(tag.removeprefix("W/").strip('"'))


def user_of(row: Row) -> Any:
    """A directory row as a SCIM User: the one place a person is read for SCIM, from a
    row whose sealed name and e-mail the read port has opened."""
    manager_id = row["manager_id"]
    return ScimUser(
        id=row["person_id"],
        user_name=row["person_id"],
        external_id=row["external_id"],
        display_name=row["display_name"],
        emails=[Email(value=row["email"])],
        active=row["active"],
        meta=Meta(
            resource_type="User",
            created=_utc(row["created_at"]),
            last_modified=_utc(row["updated_at"]),
            version=etag(row["version"]),
        ),
        **{
            "EnterpriseUser": EnterpriseUser(
                employee_number=row["employee_number"],
                department=row["team_id"],
                manager=None if manager_id is None else Manager(value=manager_id),
            ),
            "CraftingUser": CraftingUser(
                contracted_hours_per_week=row["contracted_hours_per_week"]
            ),
        },
    )


def _utc(at: datetime) -> datetime:
    """SQLite gives back naive timestamps; every stored one is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _email(user: Any) -> str:
    emails = user.emails or []
    return str(emails[0].value) if emails and emails[0].value else ""


def entry_of(
    user: Any, current: Row | None, default_hours: float, *, deprovisioned: bool = False
) -> DirectoryEntry:
    """The directory entry a User asks for. What SCIM leaves out keeps its value:
    contracted hours (IdPs rarely send our extension), and `active` on a replace."""
    person_id = user.user_name or ""
    if current is not None and person_id != current["person_id"]:
        raise MutabilityException(
            detail="userName is the person id and cannot change; provision a new user instead."
        )
    enterprise, crafting = user[EnterpriseUser], user[CraftingUser]
    hours = crafting.contracted_hours_per_week if crafting is not None else None
    if hours is None:
        hours = default_hours if current is None else current["contracted_hours_per_week"]
    active = user.active
    if active is None:
        active = True if current is None else current["active"]
    manager = enterprise.manager if enterprise is not None else None
    profile = Profile(
        display_name=user.display_name or person_id,
        email=_email(user),
        manager_id=manager.value if manager is not None else None,
        team_id=enterprise.department if enterprise is not None else None,
        contracted_hours_per_week=hours,
        active=False if deprovisioned else bool(active),
    )
    provisioning = Provisioning(
        external_id=user.external_id,
        employee_number=enterprise.employee_number if enterprise is not None else None,
        deprovisioned=deprovisioned,
    )
    return DirectoryEntry(person_id, profile, provisioning)


def removal_of(current: Row) -> DirectoryEntry:
    """The entry that deprovisions a person (DELETE): deactivated and hidden from SCIM,
    everything else as it is — nothing is erased."""
    profile = Profile(
        display_name=current["display_name"],
        email=current["email"],
        manager_id=current["manager_id"],
        team_id=current["team_id"],
        contracted_hours_per_week=current["contracted_hours_per_week"],
        active=False,
    )
    provisioning = Provisioning(
        external_id=current["external_id"],
        employee_number=current["employee_number"],
        deprovisioned=True,
    )
    return DirectoryEntry(current["person_id"], profile, provisioning)
