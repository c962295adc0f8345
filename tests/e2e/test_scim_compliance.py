"""scim2-tester (a SCIM compliance checker written by others) against a running
`crafting serve`, on both databases: every check it runs must pass.

What it does not run, and why (none of these is something we claim to support, and
/ServiceProviderConfig says so, so the checker leaves them out by itself):
- Groups: not served (the directory has teams, but a team is an attribute of a person,
  `department`, not a group with members an IdP could manage); no /Groups resource type.
- Bulk, sort, change password, cursor paging: `supported: false` in the configuration.

Two check results do not apply, and are asserted as refused instead:
- `check_remove_attribute` on our extension as a whole: the checker removes every
  optional attribute with PATCH, and our extension is optional for IdPs that do not
  map contracted hours — but a person always has them, so removing them is answered
  with a `mutability` error (a PUT without the extension keeps them).
- `check_remove_attribute` on `active`: optional when writing (RFC 7643 lets a server
  default it: a new user is active, a PUT without it keeps it), but every person is
  active or not, so removing it is a `mutability` error too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import httpx2
import pytest
from pydantic import Field
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Required, ResourceType, ScimProvider
from scim2_tester import Status, check_server

from api.scim.models import CraftingUser, EnterpriseUser, User
from tests.e2e.scim import scim_process

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
NOT_APPLICABLE = {
    ("check_remove_attribute", "urn:crafting:params:scim:schemas:extension:crafting:2.0:User"),
    ("check_remove_attribute", "active"),
}


class ExampleHours(CraftingUser):
    """Our extension as the server publishes it, with examples: scim2-tester fills a
    `decimal` attribute with text unless the model gives it examples to pick from."""

    contracted_hours_per_week: Annotated[float | None, Required.true] = Field(
        None, examples=[40.0, 37.5, 32.0]
    )


def _described() -> ScimProvider:
    """The server's description for the checker: the published one, plus examples."""
    return ScimProvider(
        models=[User, EnterpriseUser, ExampleHours],
        resource_types=[ResourceType.from_resource(User[EnterpriseUser | ExampleHours])],
    )


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    # The checker creates and deletes users in an otherwise empty directory: every
    # deletion would be most of it. The guard has its own tests.
    with scim_process(database_url, tmp_path, CRAFTING_SCIM_DEACTIVATION_SHARE="1") as served:
        yield served


def test_scim2_tester_passes_every_check_it_runs(served: tuple[str, str]) -> None:
    base, token = served
    http = httpx2.Client(
        base_url=f"{base}/scim/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    results = check_server(SyncSCIMClient(http, provider=_described()))
    refused = [r for r in results if r.status not in PASSING]
    not_applicable = [r for r in refused if (r.title, _attribute(r.reason)) in NOT_APPLICABLE]
    assert len(not_applicable) == len(NOT_APPLICABLE), [r.reason for r in refused]
    failed = [(r.title, r.status.name, r.reason) for r in refused if r not in not_applicable]
    assert failed == [], "\n".join(map(str, failed))
    counts = Counter(r.status.name for r in results)
    # It ran the discovery and the CRUD checks of Users (not only the discovery).
    titles = {r.title for r in results}
    assert len(results) >= 20, counts
    assert any("User" in (r.resource_type or "") for r in results), titles
    assert {"crud:create", "crud:read", "crud:update", "crud:delete"} <= set().union(
        *(r.tags for r in results)
    )


def _attribute(reason: str | None) -> str | None:
    """The attribute a check's reason names ("… attribute 'X'")."""
    if reason is None or "attribute '" not in reason:
        return None
    return reason.split("attribute '", 1)[1].split("'", 1)[0]
