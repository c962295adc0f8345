"""A refused form keeps the version it was shown with (both databases): a value the
form cannot read is shown again for correcting, and if someone else changed the
agreement meanwhile, the corrected form gets the conflict naming their change instead
of overwriting it unseen."""

from __future__ import annotations

import pytest

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.e2e.conftest import Api
from tests.e2e.shared import shared_api  # noqa: F401  (the tests share one service)
from tests.e2e.web import hidden_fields, sign_in
from tests.e2e.world import World

REVIEW = """mutation($id: ID!) { recordReview(input: {agreementId: $id, outcome: AT_RISK,
  notes: "Slipping"}) { userErrors { code } } }"""

# A manager action on an active agreement: a value its form cannot read, then the
# values that correct it.
CASES = {
    "adjust": (
        {"adjustment.hoursPerWeek": "two"},
        {
            "adjustment.kind": "TASK",
            "adjustment.description": "Pair",
            "adjustment.hoursPerWeek": "1",
        },
    ),
    "reallocate": (
        {"hoursPerWeek": "two"},
        {"task": "Triage", "hoursPerWeek": "1", "toPersonId": "{mate}", "reason": "Room"},
    ),
    "review": ({"heldOn": "last Tuesday"}, {"outcome": "ON_TRACK", "heldOn": ""}),
    "guardrails": (
        {"guardrails.reviewEveryDays": "often"},
        {"guardrails.maxDevelopmentHoursPerWeek": "8", "guardrails.reviewEveryDays": "21"},
    ),
}


@pytest.mark.parametrize("action", CASES)
def test_a_corrected_form_after_someone_elses_change_is_a_conflict(api: Api, action: str) -> None:
    world = World(api)
    active = world.active()
    aid = str(agreement_uuid(active["id"]))
    world.sync()
    manager = sign_in(api.client, api.secret, world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE)
    url = f"/agreements/{aid}/{action}"
    shown = hidden_fields(manager.get(f"/agreements/{aid}").text, url)
    assert shown["expected_version"] == str(active["version"])
    # HR records a review while the manager's page is open.
    assert api.data(world.hr, REVIEW, id=active["id"])["recordReview"]["userErrors"] == []
    world.sync()
    before = api.position()
    wrong, right = CASES[action]
    right = {k: v.format(mate=world.ids["mate"]) for k, v in right.items()}
    refused = manager.post(url, data=shown | right | wrong)
    assert refused.status_code == 422, refused.text
    assert "must be a" in refused.text
    kept = hidden_fields(refused.text, url)
    assert kept["expected_version"] == shown["expected_version"]  # not the latest
    assert kept["idempotency_key"] != shown["idempotency_key"]  # made for this rendering
    corrected = manager.post(url, data=kept | right)
    assert corrected.status_code == 409, corrected.text
    assert "This agreement changed since you opened it: " in corrected.text
    assert "at risk — Slipping" in corrected.text  # HR's review, named
    assert api.position() == before
    # Reloaded, the form has the latest version and goes through.
    fresh = hidden_fields(manager.get(f"/agreements/{aid}").text, url)
    assert int(fresh["expected_version"]) == active["version"] + 1
    assert manager.post(url, data=fresh | right).status_code == 303
