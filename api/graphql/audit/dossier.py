"""`dossier(agreementId)` and `personDossier(personId)`: where to download a promotion
dossier (a PDF anyone can check offline) of an agreement or of all of a person's, for the
employee, their manager and HR."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import ForbiddenError, NotFoundError
from api.graphql.ids import agreement_uuid, person_key
from api.http.dossier_download import dossier_path, person_dossier_path
from domain.errors import Forbidden, NotFound


@strawberry.type(description="Where to download an agreement's promotion dossier.")
class DossierDownload:
    agreement_id: strawberry.ID
    url: str = strawberry.field(
        description="The PDF's address on this service (relative): GET it with the same "
        "`Authorization: Bearer` header. Each download issues a dossier to the caller and "
        "records that in the audit log (`DossierIssued`); 409 with Retry-After while the "
        "agreement's latest events await their signed checkpoint."
    )
    content_type: str
    verify_with: str = strawberry.field(
        description="How a promotion panel checks the PDF offline, with the service's "
        "public key (`crafting keys`)."
    )


VERIFY_WITH = (
    "crafting verify-dossier FILE.pdf --public-key KEY "
    "(or: python -m domain.dossier.check FILE.pdf --public-key KEY)"
)


@strawberry.type(description="Where to download the dossier of all of a person's agreements.")
class PersonDossierDownload:
    person_id: strawberry.ID
    agreement_count: int = strawberry.field(
        description="How many of the person's agreements the dossier holds: those the "
        "caller may see (as the read models know them now)."
    )
    url: str = strawberry.field(
        description="The PDF's address on this service (relative): GET it with the same "
        "`Authorization: Bearer` header. Each download issues a dossier to the caller and "
        "records a `DossierIssued` per agreement; 409 with Retry-After while an "
        "agreement's latest events await their signed checkpoint."
    )
    content_type: str
    verify_with: str = strawberry.field(
        description="How a promotion panel checks the PDF offline (each agreement's "
        "embedded export and printed facts), with the service's public key."
    )


async def person_dossier(
    info: Info[Context, None], person_id: strawberry.ID
) -> PersonDossierDownload:
    """The download of the dossier of all the person's agreements the caller may see:
    the person, their current manager or HR (FORBIDDEN otherwise, whether or not the
    person exists)."""
    ctx = info.context
    key = person_key(person_id, "personId")
    try:
        count = await asyncio.to_thread(ctx.ports.dossiers.may_receive_person, ctx.actor, key)
    except Forbidden as error:
        raise ForbiddenError(str(error)) from None
    except NotFound as error:
        raise NotFoundError(error.message, field="personId") from None
    return PersonDossierDownload(
        person_id=strawberry.ID(key),
        agreement_count=count,
        url=person_dossier_path(key),
        content_type="application/pdf",
        verify_with=VERIFY_WITH,
    )


async def dossier(info: Info[Context, None], agreement_id: strawberry.ID) -> DossierDownload:
    """The download of an agreement's dossier, if the caller is its employee, their
    current manager or HR (FORBIDDEN otherwise, whether or not it exists)."""
    ctx = info.context
    aid = agreement_uuid(agreement_id, "agreementId")
    try:
        await asyncio.to_thread(ctx.ports.dossiers.may_receive, ctx.actor, aid)
    except Forbidden as error:
        raise ForbiddenError(str(error)) from None
    except NotFound as error:
        raise NotFoundError(error.message, field="agreementId") from None
    return DossierDownload(
        agreement_id=agreement_id,
        url=dossier_path(aid),
        content_type="application/pdf",
        verify_with=VERIFY_WITH,
    )
