"""The Query type: which query runs which resolver (api.graphql.agreements, .people and
.audit hold them), in the order the schema lists them."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.agreements import queries as agreement_reads
from api.graphql.agreements.queries import find_agreement
from api.graphql.agreements.types import Agreement, AgreementConnection, CareerEvidence
from api.graphql.audit import queries as audit_reads
from api.graphql.audit.dossier import (
    DossierDownload,
    PersonDossierDownload,
    dossier,
    person_dossier,
)
from api.graphql.audit.integrity import IntegrityReport, verify_integrity
from api.graphql.audit.types import AuditEventConnection
from api.graphql.context import Context
from api.graphql.directory.queries import held_deactivations
from api.graphql.directory.types import HeldDeactivation
from api.graphql.errors import BadInputError
from api.graphql.ids import parse_global_id
from api.graphql.insights import queries as insight_reads
from api.graphql.insights.types import CareerStep, Insights
from api.graphql.node import Node
from api.graphql.paging import consistent
from api.graphql.people import queries as people_reads
from api.graphql.people.queries import find_person
from api.graphql.people.types import Person, TeamWorkload, Viewer
from api.graphql.webhooks import queries as webhook_reads
from api.graphql.webhooks.types import WebhookDeliveryConnection, WebhookSubscriptionConnection

Ctx = Info[Context, None]


async def _node(info: Ctx, id: strawberry.ID, consistent_with: int | None = None) -> Node | None:
    type_name, _ = parse_global_id(id)
    if type_name == "Agreement":
        return await find_agreement(info.context, id, consistent_with)
    if type_name == "Person":
        await consistent(info.context, consistent_with)
        return await find_person(info.context, id)
    raise BadInputError("Not a valid id.", field="id")


@strawberry.type
class Query:
    verify_integrity: IntegrityReport = strawberry.field(
        resolver=verify_integrity,
        description="An agreement's hash chain as stored, and the latest signed checkpoint.",
    )
    viewer: Viewer = strawberry.field(
        resolver=people_reads.viewer, description="Who the caller is."
    )
    node: Node | None = strawberry.field(resolver=_node)
    agreement: Agreement | None = strawberry.field(resolver=agreement_reads.agreement)
    person: Person | None = strawberry.field(resolver=people_reads.person)
    agreements: AgreementConnection = strawberry.field(resolver=agreement_reads.agreements)
    agreement_at: Agreement = strawberry.field(
        resolver=agreement_reads.agreement_at,
        description="The agreement exactly as it was at a version or instant, "
        "computed from its events.",
    )
    audit_log: AuditEventConnection = strawberry.field(resolver=audit_reads.audit_log)
    changes: AuditEventConnection = strawberry.field(
        resolver=audit_reads.changes,
        description="Every event exactly once, in commit order; resume from "
        "the last cursor you saw.",
    )
    team_workload: TeamWorkload = strawberry.field(resolver=people_reads.team_workload)
    reviews_due: AgreementConnection = strawberry.field(
        resolver=agreement_reads.reviews_due,
        description="Active agreements whose next review is due on or before `before`.",
    )
    career_evidence: CareerEvidence = strawberry.field(resolver=agreement_reads.career_evidence)
    insights: Insights = strawberry.field(resolver=insight_reads.read_insights)
    career_path: list[CareerStep] = strawberry.field(resolver=insight_reads.career_path)
    dossier: DossierDownload = strawberry.field(
        resolver=dossier,
        description="Where the employee, their manager or HR downloads the agreement's "
        "promotion dossier: a PDF carrying its verifiable export, checked offline with "
        "`crafting verify-dossier`.",
    )
    person_dossier: PersonDossierDownload = strawberry.field(
        resolver=person_dossier,
        description="Where the person, their manager or HR downloads one promotion "
        "dossier of all the person's agreements they may see: each agreement's facts, "
        "verification block and verifiable export, checked offline with "
        "`crafting verify-dossier`.",
    )
    held_deactivations: list[HeldDeactivation] = strawberry.field(resolver=held_deactivations)
    webhook_subscriptions: WebhookSubscriptionConnection = strawberry.field(
        resolver=webhook_reads.webhook_subscriptions
    )
    webhook_deliveries: WebhookDeliveryConnection = strawberry.field(
        resolver=webhook_reads.webhook_deliveries
    )
