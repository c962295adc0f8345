"""The people directory: pushed by HR or integrations, recorded as events."""

from __future__ import annotations

import pytest

from domain.application import CraftingApplication
from domain.application import commands as c
from domain.person import Person, Profile
from domain.values import Role
from tests.support import Org, positions, request
from tests.support_rules import forbidden, refused


def _profile(manager: str | None = None, email: str = "a@example.com") -> Profile:
    return Profile("Ana", email, manager, "qa", 40, True)


def test_upsert_registers_then_records_only_real_changes(memory_app: CraftingApplication) -> None:
    integration = request("bamboohr", Role.INTEGRATION)
    memory_app.execute(
        integration,
        c.UpsertPeople(
            people=[c.DirectoryEntry("boss", _profile()), c.DirectoryEntry("ana", _profile("boss"))]
        ),
    )
    before = positions(memory_app)
    memory_app.execute(
        integration, c.UpsertPeople(people=[c.DirectoryEntry("ana", _profile("boss"))])
    )
    assert positions(memory_app) == before
    memory_app.execute(
        integration,
        c.UpsertPeople(people=[c.DirectoryEntry("ana", _profile(None, "ANA@example.com"))]),
    )
    history = list(memory_app.events.get(Person.id_for("ana")))
    assert [type(e).__name__ for e in history] == ["Registered", "ProfileChanged"]
    assert history[0].profile.manager_id == "boss"  # who managed whom, then
    assert history[1].profile.manager_id is None
    assert history[1].profile.email == "ana@example.com"
    assert history[1].actor_role == "INTEGRATION"


@pytest.mark.parametrize(
    ("people", "code", "field"),
    [
        ([c.DirectoryEntry("a", _profile("a"))], "INVALID_INPUT", "people[0].managerId"),
        (
            [c.DirectoryEntry("a", _profile()), c.DirectoryEntry("a", _profile())],
            "INVALID_INPUT",
            "people[1].id",
        ),
        ([c.DirectoryEntry("a", _profile("ghost"))], "UNKNOWN_PERSON", "people[0].managerId"),
        (
            [c.DirectoryEntry("a", _profile(email="not-an-email"))],
            "INVALID_INPUT",
            "people[0].email",
        ),
        ([c.DirectoryEntry("", _profile())], "INVALID_INPUT", "people[0].id"),
        (
            [c.DirectoryEntry("a", Profile("A", "a@example.com", None, None, 200, True))],
            "INVALID_INPUT",
            "people[0].contractedHoursPerWeek",
        ),
        ([], "INVALID_INPUT", "people"),
    ],
)
def test_bad_people_are_refused_whole(
    memory_app: CraftingApplication, people: list[c.DirectoryEntry], code: str, field: str
) -> None:
    error = refused(memory_app, request("hr", Role.HR), c.UpsertPeople(people=people), code)
    assert error.field == field


def test_only_hr_and_integrations_push_people(org: Org) -> None:
    command = c.UpsertPeople(people=[c.DirectoryEntry("x", _profile())])
    for req in (org.manager, org.employee, org.auditor):
        forbidden(org.app, req, command)


def test_an_inactive_person_cannot_receive_work(org: Org) -> None:
    agreement = org.active()
    org.app.execute(
        org.hr,
        c.UpsertPeople(
            people=[
                c.DirectoryEntry(
                    org.mate_id, Profile("Mate", "m@example.com", org.manager_id, "t", 40, False)
                )
            ]
        ),
    )
    refused(
        org.app,
        org.manager,
        c.ReallocateTask(
            agreement_id=agreement.id,
            task="x",
            hours_per_week=1,
            to_person_id=org.mate_id,
            reason="x",
        ),
        "UNKNOWN_PERSON",
    )


def test_repeating_an_upsert_with_its_key_returns_the_people(
    memory_app: CraftingApplication,
) -> None:
    hr = request("hr", Role.HR)
    command = c.UpsertPeople(people=[c.DirectoryEntry("a", _profile())], idempotency_key="sync-1")
    first = memory_app.execute(hr, command)
    again = memory_app.execute(hr, command)
    assert again.replayed and [p.person_id for p in again.people] == ["a"]
    assert again.position == first.position
