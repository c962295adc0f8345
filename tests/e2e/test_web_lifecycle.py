"""The web app offers an action where the domain's lifecycle allows it, read from
domain/agreement/lifecycle.py: one edit of the lifecycle changes the page and the
command alike (here: a lifecycle in which a running agreement cannot be withdrawn)."""

from __future__ import annotations

import pytest

from api.graphql.ids import agreement_uuid
from domain.agreement import lifecycle
from domain.agreement.lifecycle import Action
from domain.values import AgreementStatus, Role
from tests.e2e.conftest import Api
from tests.e2e.web import sign_in
from tests.e2e.world import World

WITHDRAW = """mutation($input: AgreementCommandInput!) { withdrawAgreement(input: $input) {
  agreement { status } userErrors { code } } }"""


def test_the_withdraw_form_follows_the_lifecycle(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(api)
    active = world.active()
    proposed = world.propose()
    world.sync()
    employee = sign_in(api.client, api.secret, world.ids["emp"], Role.EMPLOYEE)

    def offers_withdraw(agreement: dict[str, str]) -> bool:
        page = employee.get(f"/agreements/{agreement_uuid(agreement['id'])}").text
        return "/withdraw" in page

    assert offers_withdraw(active) and offers_withdraw(proposed)
    only_open = frozenset({AgreementStatus.PROPOSED, AgreementStatus.CHANGES_REQUESTED})
    monkeypatch.setitem(lifecycle.ALLOWED_IN, Action.WITHDRAW, only_open)  # type: ignore[index]
    assert not offers_withdraw(active)
    assert offers_withdraw(proposed)
    # The command follows the same table.
    refused = api.data(
        world.employee, WITHDRAW, input={"agreementId": active["id"], "reason": "Moving on"}
    )["withdrawAgreement"]
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_TRANSITION"]
