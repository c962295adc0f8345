"""`dossier(agreementId)`: where to download an agreement's promotion dossier (a PDF
anyone can check offline), for its employee, their manager and HR."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import ForbiddenError, NotFoundError
from api.graphql.ids import agreement_uuid
from api.http.dossier_download import dossier_path
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
        verify_with="crafting verify-dossier FILE.pdf --public-key KEY "
        "(or: python -m domain.dossier.check FILE.pdf --public-key KEY)",
    )
