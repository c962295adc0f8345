"""A webhook body names its agreement both ways: the bare UUID (`agreementId`, fixed by
the SPEC) and the global id GraphQL uses (`agreementGlobalId`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

from api.graphql.ids import agreement_uuid, global_id
from domain.access import Actor
from domain.application import CraftingApplication, Request
from domain.application import commands as c
from domain.person import Profile
from domain.values import Role
from projections.webhook_payload import review_due_payload, webhook_payload
from tests.support import Org


def test_an_agreement_event_and_a_reminder_carry_both_ids(memory_app: CraftingApplication) -> None:
    org = Org(memory_app)
    agreement = org.propose()
    (event,) = memory_app.events.get(agreement.id)
    body = webhook_payload(event, 7, str(Role.HR))
    assert body is not None
    assert body["agreementId"] == str(agreement.id)
    assert body["agreementGlobalId"] == global_id("Agreement", str(agreement.id))
    assert agreement_uuid(body["agreementGlobalId"]) == agreement.id
    due = review_due_payload(str(agreement.id), "emp", date(2026, 1, 1), 7, datetime.now(UTC))
    assert due["agreementGlobalId"] == body["agreementGlobalId"]
    assert due["agreementId"] == body["agreementId"]


def test_a_directory_event_names_its_person_only(memory_app: CraftingApplication) -> None:
    request = Request(Actor(f"hr-{uuid4().hex[:6]}", frozenset({Role.HR})), "t")
    profile = Profile("P", "p@example.com", None, "t", 40, True)
    result = memory_app.execute(request, c.UpsertPeople(people=[c.DirectoryEntry("p-1", profile)]))
    (person,) = result.people
    (event,) = memory_app.events.get(person.id)
    body = webhook_payload(event, 1, str(Role.HR), person_id="p-1")
    assert body is not None and "agreementGlobalId" not in body and body["personId"] == "p-1"
