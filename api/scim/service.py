"""scim2-server's protocol, adjusted where identity providers expect otherwise."""

from __future__ import annotations

import json
import re
from typing import Any

from scim2_models import (
    Context,
    MutabilityException,
    PatchOp,
    Resource,
    ResourceType,
    ResponseParameters,
    SearchRequest,
)
from scim2_server.conditions import Conditions
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService

from api.scim.filters import check_filter_cost, check_filter_text
from api.scim.models import CraftingUser

# Entra ID's default mapping patches `emails[type eq "work"].value`; the directory keeps
# one address and publishes no `type`, so that path means the address itself.
_WORK_EMAIL = re.compile(r'^\s*emails\[\s*type\s+eq\s+"work"\s*\]\.value\s*$', re.IGNORECASE)
# Entra ID sends the manager as a bare id string, not as `{"value": id}`.
_MANAGER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager"


def _hours(user: Resource[Any]) -> float | None:
    extension = user[CraftingUser]
    return None if extension is None else extension.contracted_hours_per_week


def _active(user: Resource[Any]) -> bool | None:
    active: bool | None = getattr(user, "active", None)
    return active


class DirectoryService(ScimService):
    """Answers a PATCH with the user (200, as Okta expects; RFC 7644 also allows 204),
    understands Entra's work e-mail path, and refuses to remove contracted hours or
    `active`."""

    def read_search(
        self, resource_types: list[ResourceType], payload: Any
    ) -> tuple[SearchRequest[Any], Any]:
        """The search, its filter within the length, comparisons and nesting allowed."""
        if isinstance(payload, dict):
            for key, value in payload.items():
                if isinstance(key, str) and key.casefold() == "filter":
                    check_filter_text(value)
        search_request, position = super().read_search(resource_types, payload)
        if search_request.filter is not None:
            check_filter_cost(search_request.filter.ast)
        return search_request, position

    def read_patch(
        self, resource_type: ResourceType, body: bytes, content_type: str | None
    ) -> PatchOp[Any]:
        return super().read_patch(resource_type, _entra_quirks_fixed(body), content_type)

    def apply_patch(
        self, current: Resource[Any], patch_op: PatchOp[Any], conditions: Conditions
    ) -> Resource[Any] | None:
        # A PUT without our extension keeps the hours (IdPs seldom map it); a PATCH
        # that removes them asks for what the directory cannot hold: say so.
        had, was_active = _hours(current), _active(current)  # the patch changes `current`
        patched = super().apply_patch(current, patch_op, conditions)
        if patched is not None and had is not None and _hours(patched) is None:
            raise MutabilityException(
                detail="A person always has contracted hours: replace them, do not remove them."
            )
        # `active` is optional on a write (a new user is active, a PUT without it keeps
        # it), but every person is active or not: removing it is refused the same way.
        if patched is not None and was_active is not None and _active(patched) is None:
            raise MutabilityException(
                detail="A person is always active or not: set active to false to deactivate."
            )
        return patched

    def patch_response(
        self,
        base_url: str,
        resource: Resource[Any],
        response_parameters: ResponseParameters[Any],
    ) -> ScimResponse:
        published = self.publish(base_url, resource)
        return self.resource_response(
            published, Context.RESOURCE_REPLACEMENT_RESPONSE, response_parameters
        )


def _entra_quirks_fixed(body: bytes) -> bytes:
    """The body with Entra's work e-mail path as `emails`, and its bare manager id as
    `{"value": id}`; any body that is not such a PATCH is passed on as it is
    (scim2-server judges it)."""
    try:
        document = json.loads(body)
        operations = document["Operations"]
    except (ValueError, TypeError, KeyError):
        return body
    if not isinstance(operations, list):
        return body
    changed = False
    for operation in operations:
        if not isinstance(operation, dict):
            continue
        path = operation.get("path")
        if isinstance(path, str) and _WORK_EMAIL.match(path):
            operation["path"] = "emails"
            if "value" in operation:
                operation["value"] = [{"value": operation["value"]}]
            changed = True
        elif (
            isinstance(path, str)
            and path.strip().lower() == _MANAGER
            and isinstance(operation.get("value"), str)
        ):
            operation["value"] = {"value": operation["value"]}
            changed = True
    return json.dumps(document).encode() if changed else body
