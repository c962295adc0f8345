"""The SCIM resources we serve (scim2-models): the core User with the attributes the
directory keeps, a subset of the enterprise extension, and our extension for contracted
hours. Attributes we do not keep are not declared, so discovery tells an identity
provider exactly what it can map; unknown attributes in a body are ignored (IdPs send
their whole default mapping), an unknown PATCH path is an `invalidPath` error."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, EmailStr
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Extension,
    Filter,
    Mutability,
    Patch,
    Required,
    Resource,
    ResourceType,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)

MAX_RESULTS = 200
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CRAFTING = "urn:crafting:params:scim:schemas:extension:crafting:2.0:User"


class Email(ComplexAttribute):
    """The work e-mail: the directory keeps one address, the first one sent (IdPs send
    one, the work address). Their `type`, `display` and `primary` are ignored."""

    model_config = ConfigDict(extra="ignore")
    value: Annotated[EmailStr | None, Required.true] = None


class User(Resource[Any]):
    """A person of the directory; `id` and `userName` are the HRIS person id."""

    model_config = ConfigDict(extra="ignore")
    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:User")

    user_name: Annotated[
        str | None, Uniqueness.server, Required.true, CaseExact.true, Mutability.immutable
    ] = None
    """The person id (the HRIS employee id): 1-128 of A-Z a-z 0-9 . _ : @ + -."""

    display_name: Annotated[str | None, Required.true] = None
    """The name shown everywhere."""

    emails: Annotated[list[Email] | None, Required.true] = None
    """The work e-mail (the primary one, or the first): the directory needs one."""

    active: bool | None = None
    """Whether the person is active; false deactivates (recorded, never erased). Optional
    (RFC 7643 §4.1.1): a new user without it is active, a replace without it keeps it."""


class Manager(ComplexAttribute):
    """The manager's SCIM id, which is their person id (IdPs send no `$ref`)."""

    model_config = ConfigDict(extra="ignore")
    value: Annotated[str | None, Required.true, CaseExact.true] = None
    display_name: Annotated[str | None, Mutability.read_only] = None


class EnterpriseUser(Extension):
    """The enterprise extension's attributes the directory keeps."""

    model_config = ConfigDict(extra="ignore")
    __schema__ = URN(ENTERPRISE)

    employee_number: str | None = None
    department: str | None = None
    """The team id."""
    manager: Manager | None = None


class CraftingUser(Extension):
    """Our extension: what a directory entry needs that SCIM has no attribute for."""

    model_config = ConfigDict(extra="ignore")
    __schema__ = URN(CRAFTING)

    contracted_hours_per_week: Annotated[float | None, Required.true] = None
    """Contracted hours per week (without this extension: the service's setting)."""


ScimUser = User[EnterpriseUser | CraftingUser]  # type: ignore[type-arg]


def provider() -> ScimProvider:
    """What the service publishes on /ServiceProviderConfig, /ResourceTypes, /Schemas."""
    return ScimProvider(
        models=[User, EnterpriseUser, CraftingUser],
        resource_types=[ResourceType.from_resource(ScimUser)],
        config=ServiceProviderConfig(
            documentation_uri=None,
            patch=Patch(supported=True),
            bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
            filter=Filter(supported=True, max_results=MAX_RESULTS),
            change_password=ChangePassword(supported=False),
            sort=Sort(supported=False),
            etag=ETag(supported=True),
            authentication_schemes=[
                AuthenticationScheme(
                    type=AuthenticationScheme.Type.oauthbearertoken,
                    name="Bearer token",
                    description="A token with the INTEGRATION (or HR) role.",
                    primary=True,
                )
            ],
        ),
    )
